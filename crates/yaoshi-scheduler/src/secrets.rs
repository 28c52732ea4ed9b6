//! The scheduler's secret work: the values of rotations (a new version sealed under the
//! secret's master key; a Generic secret's value comes from the operator's rotation hook when one
//! is configured, otherwise it is a random password) and, for managed database secrets, the rotation backend's part of a
//! pending rotation (`crates/yaoshi-rotation`: change the real password, verify it, roll back on
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
    SecretType, SecretVersion,
};
use yaoshi_rotation::RotationHook;
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

/// A new version of `secret` for a rotation: the rotated value of its ACSCurrent version (from
/// `hook` for a Generic secret when one is configured), sealed under its master key's primary
/// version.
pub(crate) async fn rotated_version(
    state: &StateReader,
    domain_key: &DomainKey,
    hook: Option<&RotationHook>,
    secret: &SecretMetadata,
    now_ms: i64,
) -> Result<SecretVersion, Skip> {
    let current_id = secret.version_at(STAGE_CURRENT).ok_or(Skip("no ACSCurrent version"))?;
    let current = open_value(state, domain_key, secret, current_id)?;
    let key = usable_key(state, secret.encryption_key_id.as_str())?;
    let version_id = uuid::Uuid::now_v7().to_string();
    let value = match (secret.secret_type, hook) {
        (SecretType::Generic, Some(hook)) => {
            hook.next_value(&secret.name, &version_id, &current).await.map_err(|e| {
                tracing::warn!(secret = %secret.name, error = %e, "rotation hook failed");
                Skip("rotation hook failed")
            })?
        }
        _ => rotated_value(secret.secret_type, &current).ok_or(Skip("value does not parse"))?,
    };
    let (key_version, material) = material(state, domain_key, &key, &key.primary_version)?;
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
        SecretType::Generic => Ok(true),
        SecretType::Rds => run_backend(state, domain_key, secret, pending).await,
    }
}

/// How long the backend may take for one pending rotation.
const BACKEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A managed database account value: `{"AccountName","AccountPassword"}`.
fn account(value: &[u8]) -> Option<(String, Zeroizing<String>)> {
    let v: serde_json::Value = serde_json::from_slice(value).ok()?;
    let name = v.get("AccountName")?.as_str()?.to_string();
    let password = Zeroizing::new(v.get("AccountPassword")?.as_str()?.to_string());
    Some((name, password))
}

/// The PostgreSQL part of a pending rotation (SingleUser): when the pending password already logs
/// in (a previous leader changed it), it is confirmed; otherwise the role's password is changed
/// from the current one, verified, and rolled back on failure. A failure that may have changed
/// the password is retried (the next tick checks the pending password first); a refusal
/// abandons the rotation.
async fn run_backend(
    state: &StateReader,
    domain_key: &DomainKey,
    secret: &SecretMetadata,
    pending: &str,
) -> Result<bool, Skip> {
    use yaoshi_rotation::{PgTarget, RotationError, can_login, rotate_single_user};
    let config: Option<serde_json::Value> =
        secret.extended_config.as_deref().and_then(|c| serde_json::from_str(c).ok());
    let instance = config
        .as_ref()
        .and_then(|c| c.get("DBInstanceId"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let Ok(target) = PgTarget::parse(instance) else {
        return Ok(false);
    };
    let current_id = secret.version_at(STAGE_CURRENT).ok_or(Skip("no ACSCurrent version"))?;
    let current = open_value(state, domain_key, secret, current_id)?;
    let next = open_value(state, domain_key, secret, pending)?;
    let (Some((user, old)), Some((next_user, new))) = (account(&current), account(&next)) else {
        return Ok(false);
    };
    if user != next_user {
        return Ok(false);
    }
    let work = async {
        match can_login(&target, &user, &new).await {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(RotationError::Unreachable { .. }) => return Err(Skip("database unreachable")),
            Err(_) => return Ok(false),
        }
        match rotate_single_user(&target, &user, &old, &new).await {
            Ok(()) => Ok(true),
            Err(e) if e.may_have_changed() || matches!(e, RotationError::Unreachable { .. }) => {
                tracing::warn!(secret = %secret.name, error = %e, "rotation backend: outcome unknown, retrying");
                Err(Skip("database outcome unknown"))
            }
            Err(e) => {
                tracing::warn!(secret = %secret.name, error = %e, "rotation backend refused; abandoning the rotation");
                Ok(false)
            }
        }
    };
    tokio::time::timeout(BACKEND_TIMEOUT, work).await.map_err(|_| Skip("database timed out"))?
}
