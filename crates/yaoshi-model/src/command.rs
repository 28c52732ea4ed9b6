//! The replicated command: everything that changes state is one of these, appended to a region's log.
//!
//! Persisted means forever: these types are encoded into the Raft log and snapshots. Add variants at
//! the end; never change the meaning of an existing one.

use crate::certificate::{CertificateMetadata, CertificateStatus};
use crate::credential::{AccessPoint, Credential, CredentialV1};
use crate::error_code::ApiError;
use crate::ids::{AccessKeyId, KeyId};
use crate::key::{Alias, ImportToken, KeyMetadata, KeyVersion};
use crate::secret::{SecretMetadata, SecretVersion};
use crate::tag::{ResourceRef, Tag};
use serde::{Deserialize, Serialize};

/// Request context carried by every command; decided by the proposer, never by apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandMeta {
    /// The API request id.
    pub request_id: String,
    /// The authenticated AccessKey id, `None` for system commands.
    pub principal: Option<AccessKeyId>,
    /// The request's SignatureNonce, checked for replay in apply.
    pub nonce: Option<String>,
    /// The proposer's clock when the command was built, Unix milliseconds.
    pub at_ms: i64,
}

/// A state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Creates a key with its first version (material already wrapped).
    CreateKey {
        /// Metadata of the new key.
        metadata: KeyMetadata,
        /// Its first (primary) version.
        version: KeyVersion,
        /// Tags given at creation.
        tags: Vec<Tag>,
    },
    /// Creates the cluster's bootstrap credential, only if no credential exists yet.
    BootstrapCredential {
        /// The credential (its first-release form, kept for the logs that carry it).
        credential: CredentialV1,
    },
    /// Replaces a key's description (not in PendingDeletion).
    UpdateKeyDescription {
        /// The key.
        key_id: KeyId,
        /// The new description.
        description: String,
    },
    /// Enables or disables a key (only between Enabled and Disabled).
    SetKeyEnabled {
        /// The key.
        key_id: KeyId,
        /// `true` for EnableKey, `false` for DisableKey.
        enabled: bool,
    },
    /// Moves a key to PendingDeletion; apply sets its purge time to the command's (leader-stamped)
    /// time plus the window, and refuses a window outside 7–30 days.
    ScheduleKeyDeletion {
        /// The key.
        key_id: KeyId,
        /// `PendingWindowInDays`.
        pending_window_days: u32,
    },
    /// Returns a PendingDeletion key to Enabled.
    CancelKeyDeletion {
        /// The key.
        key_id: KeyId,
    },
    /// Creates an alias (name unique per region; key not in PendingDeletion).
    CreateAlias {
        /// The alias.
        alias: Alias,
    },
    /// Points an existing alias at another key (target not in PendingDeletion).
    UpdateAlias {
        /// The alias name.
        name: String,
        /// The new target key.
        key_id: KeyId,
    },
    /// Deletes an alias.
    DeleteAlias {
        /// The alias name.
        name: String,
    },
    /// Sets the automatic rotation policy (only for Enabled keys).
    UpdateRotationPolicy {
        /// The key.
        key_id: KeyId,
        /// The rotation period in seconds, `None` to turn automatic rotation off.
        interval_s: Option<u64>,
    },
    /// Turns deletion protection on (with a description) or off.
    SetDeletionProtection {
        /// The key.
        key_id: KeyId,
        /// `Some(description)` to protect, `None` to unprotect.
        protection: Option<String>,
    },
    /// Adds or overwrites tags (at most [`crate::MAX_TAGS_PER_RESOURCE`] per resource afterwards).
    TagResource {
        /// The resource.
        resource: ResourceRef,
        /// The tags.
        tags: Vec<Tag>,
    },
    /// Removes tags by key (absent keys are ignored).
    UntagResource {
        /// The resource.
        resource: ResourceRef,
        /// The tag keys.
        tag_keys: Vec<String>,
    },
    /// Adds a new primary version to an Enabled asymmetric key, at least
    /// [`crate::MIN_KEY_VERSION_INTERVAL_MS`] after the previous one (by the proposer's clock).
    CreateKeyVersion {
        /// The new version (material generated and wrapped by the proposer).
        version: KeyVersion,
    },
    /// Stores a BYOK import token for an EXTERNAL key (any state).
    CreateImportToken {
        /// The token with its wrapped private key.
        token: ImportToken,
    },
    /// Imports material into an EXTERNAL key's primary version (not in PendingDeletion): the
    /// token must belong to the key and be unexpired at the proposer's time, and a key that ever
    /// had material only takes the same material again (same digest). PendingImport → Enabled.
    ImportKeyMaterial {
        /// The key.
        key_id: KeyId,
        /// The import token used.
        token: String,
        /// The material wrapped under the domain key for the primary version.
        wrapped_material: Vec<u8>,
        /// The material's keyed digest.
        material_digest: Vec<u8>,
        /// When the material expires, Unix ms (`None`: never).
        expire_ms: Option<i64>,
    },
    /// Deletes an EXTERNAL key's material: → PendingImport (PendingDeletion stays).
    DeleteKeyMaterial {
        /// The key.
        key_id: KeyId,
    },
    /// Scheduled (leader only): deletes a key whose deletion window has passed, with its versions,
    /// aliases and tags. Applies only if the key is still PendingDeletion with exactly this
    /// DeleteDate and the proposer's time has reached it; otherwise a recorded no-op.
    PurgeKey {
        /// The key.
        key_id: KeyId,
        /// The DeleteDate the scheduler saw, Unix ms.
        expected_delete_ms: i64,
        /// The key's aliases the scheduler saw (announced to caches; apply deletes every alias
        /// the key has).
        aliases: Vec<String>,
    },
    /// Scheduled (leader only): automatic rotation. Applies only if the key is Enabled, rotates
    /// automatically, its NextRotationDate is exactly `expected_next_rotation_ms` and the proposer's
    /// time has reached it; the new version becomes primary and LastRotationDate moves to the
    /// latest slot of the schedule (`expected + k × interval`) not after the proposer's time.
    RotateKey {
        /// The key.
        key_id: KeyId,
        /// The NextRotationDate the scheduler saw, Unix ms.
        expected_next_rotation_ms: i64,
        /// The new version (material generated and wrapped by the proposer).
        version: KeyVersion,
    },
    /// Scheduled (leader only): imported material whose MaterialExpireTime has passed is deleted
    /// and the key waits for an import (PendingDeletion stays). Applies only if the key still has
    /// exactly this expiry and the proposer's time has reached it.
    ExpireKeyMaterial {
        /// The key.
        key_id: KeyId,
        /// The MaterialExpireTime the scheduler saw, Unix ms.
        expected_expire_ms: i64,
    },
    /// Scheduled (leader only): forgets import tokens; each is deleted only if it exists and has
    /// expired by the proposer's time.
    PurgeImportTokens {
        /// The tokens.
        tokens: Vec<String>,
    },
    /// Operator: creates an AccessKey (the id must be new; a named access point must exist).
    CreateCredential {
        /// The credential, its secret wrapped.
        credential: Credential,
    },
    /// Operator: gives a credential a new secret; the current one becomes the retiring one,
    /// accepted until the command's time plus `grace_ms` (a retiring one before it is dropped).
    RotateCredential {
        /// The credential.
        access_key_id: AccessKeyId,
        /// The new secret, wrapped.
        wrapped_secret: Vec<u8>,
        /// How long the old secret keeps working, milliseconds (0: not at all).
        grace_ms: i64,
    },
    /// Operator: deletes a credential; its secrets stop working at once.
    RevokeCredential {
        /// The credential.
        access_key_id: AccessKeyId,
    },
    /// Operator: holds a credential to an access point's policies (`None`: unscoped).
    SetCredentialAccessPoint {
        /// The credential.
        access_key_id: AccessKeyId,
        /// The access point, which must exist.
        access_point: Option<String>,
    },
    /// Operator: creates or replaces an access point and its policies.
    PutAccessPoint {
        /// The access point.
        access_point: AccessPoint,
    },
    /// Operator: deletes an access point no credential is held to.
    DeleteAccessPoint {
        /// Its name.
        name: String,
    },
    /// Creates a secret with its first version as ACSCurrent (name new, not in a recovery
    /// window; master key Enabled). `new_key`: the region's default secrets key, generated by the
    /// proposer when it saw none, created with the secret (the first one becomes the default).
    CreateSecret {
        /// The secret; `stages` names the first version ACSCurrent.
        metadata: Box<SecretMetadata>,
        /// The first version.
        version: SecretVersion,
        /// Tags given at creation.
        tags: Vec<Tag>,
        /// A new default master key for secrets, with its version.
        new_key: Option<Box<(KeyMetadata, KeyVersion)>>,
    },
    /// Stores a new version of a Generic secret. The same version id with the same data digest
    /// changes nothing; with another digest it is refused. `stages` go to the new version;
    /// ACSCurrent moves the old current to ACSPrevious.
    PutSecretValue {
        /// The secret.
        name: String,
        /// The new version.
        version: SecretVersion,
        /// Its stages (non-empty).
        stages: Vec<String>,
    },
    /// Changes a secret's description and/or its ExtendedConfig `CustomData`.
    UpdateSecret {
        /// The secret.
        name: String,
        /// The new description.
        description: Option<String>,
        /// The new ExtendedConfig JSON text (managed secrets).
        extended_config: Option<String>,
    },
    /// Moves or removes a stage label of a Generic secret.
    UpdateSecretVersionStage {
        /// The secret.
        name: String,
        /// The stage.
        stage: String,
        /// The version that must carry it now, which loses it.
        remove_from: Option<String>,
        /// The version that gets it.
        move_to: Option<String>,
    },
    /// Deletes a secret: with a recovery window (planned purge at the command's time plus the
    /// window), or at once (`None`, ForceDeleteWithoutRecovery).
    DeleteSecret {
        /// The secret.
        name: String,
        /// RecoveryWindowInDays (7–30), `None` to delete now.
        recovery_window_days: Option<u32>,
    },
    /// Ends a secret's recovery window.
    RestoreSecret {
        /// The secret.
        name: String,
    },
    /// Turns automatic rotation on (period in seconds, 6 h–365 d; next rotation at the command's
    /// time plus the period) or off.
    UpdateSecretRotationPolicy {
        /// The secret.
        name: String,
        /// The period, `None` for off.
        interval_s: Option<u64>,
    },
    /// RotateSecret: a new version with a generated value. Generic: it becomes ACSCurrent;
    /// managed: ACSPending until the leader's rotation backend confirms it
    /// ([`Command::FinishSecretRotation`]). An existing version id changes nothing.
    RotateSecret {
        /// The secret.
        name: String,
        /// The new version.
        version: SecretVersion,
    },
    /// Scheduled (leader only): automatic rotation, as [`Command::RotateSecret`], applied only if
    /// the secret still rotates with exactly this NextRotationDate and the proposer's time has
    /// reached it.
    AutoRotateSecret {
        /// The secret.
        name: String,
        /// The NextRotationDate the scheduler saw, Unix ms.
        expected_next_rotation_ms: i64,
        /// The new version.
        version: SecretVersion,
    },
    /// Scheduled (leader only): ends a managed secret's pending rotation: on success the pending
    /// version becomes ACSCurrent, otherwise it loses ACSPending. Applies only while this version
    /// is still the pending one.
    FinishSecretRotation {
        /// The secret.
        name: String,
        /// The pending version.
        version_id: String,
        /// Whether the backend confirmed the new value.
        succeeded: bool,
    },
    /// Scheduled (leader only): purges a secret whose recovery window has ended, with its
    /// versions and tags. Applies only if its PlannedDeleteTime is exactly this and the
    /// proposer's time has reached it.
    PurgeSecret {
        /// The secret.
        name: String,
        /// The PlannedDeleteTime the scheduler saw, Unix ms.
        expected_delete_ms: i64,
    },
    /// CreateCertificate: a new certificate (PENDING) with its wrapped private key, its request
    /// and tags. The proposing node generated the key and signed the request.
    CreateCertificate {
        /// The certificate as created.
        metadata: Box<CertificateMetadata>,
        /// Tags (at most [`crate::MAX_TAGS_PER_RESOURCE`] are kept).
        tags: Vec<Tag>,
    },
    /// UploadCertificate: the CA's certificate and chain, checked by the proposing node against
    /// the held key (PENDING → ACTIVE; a later upload replaces them and keeps the status, except
    /// that a REVOKED certificate takes none).
    UploadCertificate {
        /// The certificate.
        certificate_id: String,
        /// The certificate, normalized PEM.
        certificate_pem: String,
        /// The chain, normalized PEM blocks (empty: none).
        chain_pem: String,
    },
    /// UpdateCertificateStatus: ACTIVE, INACTIVE or REVOKED (REVOKED is final; a PENDING
    /// certificate has nothing to change yet).
    UpdateCertificateStatus {
        /// The certificate.
        certificate_id: String,
        /// The new status.
        status: CertificateStatus,
    },
    /// DeleteCertificate: the certificate, its private key, chain and tags, at once.
    DeleteCertificate {
        /// The certificate.
        certificate_id: String,
    },
    /// ImportCertificate: a certificate with its key from a PKCS#12 file, ACTIVE at once. The
    /// proposing node opened the file, checked the key and chain like an upload, and wrapped the
    /// key under the domain key.
    ImportCertificate {
        /// The certificate as imported (with its certificate PEM and chain).
        metadata: Box<CertificateMetadata>,
        /// Tags (at most [`crate::MAX_TAGS_PER_RESOURCE`] are kept).
        tags: Vec<Tag>,
    },
    /// ExportCertificate: changes nothing, but puts the export of a private key in the audit
    /// trail before any key leaves. Refused unless the certificate exists, is exportable and is
    /// ACTIVE; answers the certificate as it was when the export was authorized.
    ExportCertificate {
        /// The certificate.
        certificate_id: String,
    },
}

impl Command {
    /// The action name recorded in the audit trail.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateKey { .. } => "CreateKey",
            Command::BootstrapCredential { .. } => "BootstrapCredential",
            Command::UpdateKeyDescription { .. } => "UpdateKeyDescription",
            Command::SetKeyEnabled { enabled: true, .. } => "EnableKey",
            Command::SetKeyEnabled { enabled: false, .. } => "DisableKey",
            Command::ScheduleKeyDeletion { .. } => "ScheduleKeyDeletion",
            Command::CancelKeyDeletion { .. } => "CancelKeyDeletion",
            Command::CreateAlias { .. } => "CreateAlias",
            Command::UpdateAlias { .. } => "UpdateAlias",
            Command::DeleteAlias { .. } => "DeleteAlias",
            Command::SetDeletionProtection { .. } => "SetDeletionProtection",
            Command::UpdateRotationPolicy { .. } => "UpdateRotationPolicy",
            Command::TagResource { .. } => "TagResource",
            Command::UntagResource { .. } => "UntagResource",
            Command::CreateKeyVersion { .. } => "CreateKeyVersion",
            Command::CreateImportToken { .. } => "GetParametersForImport",
            Command::ImportKeyMaterial { .. } => "ImportKeyMaterial",
            Command::DeleteKeyMaterial { .. } => "DeleteKeyMaterial",
            Command::PurgeKey { .. } => "PurgeKey",
            Command::RotateKey { .. } => "RotateKey",
            Command::ExpireKeyMaterial { .. } => "ExpireKeyMaterial",
            Command::PurgeImportTokens { .. } => "PurgeImportTokens",
            Command::CreateCredential { .. } => "CreateCredential",
            Command::RotateCredential { .. } => "RotateCredential",
            Command::RevokeCredential { .. } => "RevokeCredential",
            Command::SetCredentialAccessPoint { .. } => "SetCredentialAccessPoint",
            Command::PutAccessPoint { .. } => "PutAccessPoint",
            Command::DeleteAccessPoint { .. } => "DeleteAccessPoint",
            Command::CreateSecret { .. } => "CreateSecret",
            Command::PutSecretValue { .. } => "PutSecretValue",
            Command::UpdateSecret { .. } => "UpdateSecret",
            Command::UpdateSecretVersionStage { .. } => "UpdateSecretVersionStage",
            Command::DeleteSecret { .. } => "DeleteSecret",
            Command::RestoreSecret { .. } => "RestoreSecret",
            Command::UpdateSecretRotationPolicy { .. } => "UpdateSecretRotationPolicy",
            Command::RotateSecret { .. } => "RotateSecret",
            Command::AutoRotateSecret { .. } => "AutoRotateSecret",
            Command::FinishSecretRotation { .. } => "FinishSecretRotation",
            Command::PurgeSecret { .. } => "PurgeSecret",
            Command::CreateCertificate { .. } => "CreateCertificate",
            Command::UploadCertificate { .. } => "UploadCertificate",
            Command::UpdateCertificateStatus { .. } => "UpdateCertificateStatus",
            Command::DeleteCertificate { .. } => "DeleteCertificate",
            Command::ImportCertificate { .. } => "ImportCertificate",
            Command::ExportCertificate { .. } => "ExportCertificate",
        }
    }

    /// Work the leader's scheduler proposes itself (purges, rotation, expiry): never accepted
    /// from a peer.
    pub fn is_scheduled(&self) -> bool {
        matches!(
            self,
            Command::PurgeKey { .. }
                | Command::RotateKey { .. }
                | Command::ExpireKeyMaterial { .. }
                | Command::PurgeImportTokens { .. }
                | Command::AutoRotateSecret { .. }
                | Command::FinishSecretRotation { .. }
                | Command::PurgeSecret { .. }
        )
    }

    /// The bootstrap credential, the one command without a principal that any node may forward
    /// (apply takes it only while no credential exists).
    pub fn is_bootstrap(&self) -> bool {
        matches!(self, Command::BootstrapCredential { .. })
    }

    /// A change of credentials or access points: proposed by an operator on the admin listener.
    pub fn is_access_admin(&self) -> bool {
        matches!(
            self,
            Command::CreateCredential { .. }
                | Command::RotateCredential { .. }
                | Command::RevokeCredential { .. }
                | Command::SetCredentialAccessPoint { .. }
                | Command::PutAccessPoint { .. }
                | Command::DeleteAccessPoint { .. }
        )
    }

    /// The resource the command acts on, for the audit trail.
    pub fn target(&self) -> Option<String> {
        match self {
            Command::BootstrapCredential { credential } => {
                Some(credential.access_key_id.to_string())
            }
            Command::CreateCredential { credential } => Some(credential.access_key_id.to_string()),
            Command::RotateCredential { access_key_id, .. }
            | Command::RevokeCredential { access_key_id }
            | Command::SetCredentialAccessPoint { access_key_id, .. } => {
                Some(access_key_id.to_string())
            }
            Command::PutAccessPoint { access_point } => Some(access_point.name.clone()),
            Command::DeleteAccessPoint { name } => Some(name.clone()),
            _ if self.secret_name().is_some() => self.secret_name().map(str::to_string),
            _ if self.certificate_id().is_some() => self.certificate_id().map(str::to_string),
            Command::CreateAlias { alias } => Some(alias.name.clone()),
            Command::UpdateAlias { name, .. } | Command::DeleteAlias { name } => Some(name.clone()),
            _ => self.key_id().map(KeyId::to_string),
        }
    }

    /// The secret this command touches, if any.
    pub fn secret_name(&self) -> Option<&str> {
        match self {
            Command::CreateSecret { metadata, .. } => Some(&metadata.name),
            Command::PutSecretValue { name, .. }
            | Command::UpdateSecret { name, .. }
            | Command::UpdateSecretVersionStage { name, .. }
            | Command::DeleteSecret { name, .. }
            | Command::RestoreSecret { name }
            | Command::UpdateSecretRotationPolicy { name, .. }
            | Command::RotateSecret { name, .. }
            | Command::AutoRotateSecret { name, .. }
            | Command::FinishSecretRotation { name, .. }
            | Command::PurgeSecret { name, .. } => Some(name),
            Command::TagResource { resource: ResourceRef::Secret(name), .. }
            | Command::UntagResource { resource: ResourceRef::Secret(name), .. } => Some(name),
            _ => None,
        }
    }

    /// The certificate this command touches, if any.
    pub fn certificate_id(&self) -> Option<&str> {
        match self {
            Command::CreateCertificate { metadata, .. }
            | Command::ImportCertificate { metadata, .. } => Some(&metadata.certificate_id),
            Command::UploadCertificate { certificate_id, .. }
            | Command::UpdateCertificateStatus { certificate_id, .. }
            | Command::DeleteCertificate { certificate_id }
            | Command::ExportCertificate { certificate_id } => Some(certificate_id),
            Command::TagResource { resource: ResourceRef::Certificate(id), .. }
            | Command::UntagResource { resource: ResourceRef::Certificate(id), .. } => Some(id),
            _ => None,
        }
    }

    /// The key this command touches, if any (used by caches watching applied changes).
    pub fn key_id(&self) -> Option<&KeyId> {
        match self {
            Command::CreateKey { metadata, .. } => Some(&metadata.key_id),
            Command::CreateKeyVersion { version } => Some(&version.key_id),
            Command::CreateImportToken { token } => Some(&token.key_id),
            Command::ImportKeyMaterial { key_id, .. } | Command::DeleteKeyMaterial { key_id } => {
                Some(key_id)
            }
            Command::BootstrapCredential { .. }
            | Command::CreateCredential { .. }
            | Command::RotateCredential { .. }
            | Command::RevokeCredential { .. }
            | Command::SetCredentialAccessPoint { .. }
            | Command::PutAccessPoint { .. }
            | Command::DeleteAccessPoint { .. }
            | Command::DeleteAlias { .. }
            | Command::PurgeImportTokens { .. } => None,
            Command::CreateSecret { .. }
            | Command::PutSecretValue { .. }
            | Command::UpdateSecret { .. }
            | Command::UpdateSecretVersionStage { .. }
            | Command::DeleteSecret { .. }
            | Command::RestoreSecret { .. }
            | Command::UpdateSecretRotationPolicy { .. }
            | Command::RotateSecret { .. }
            | Command::AutoRotateSecret { .. }
            | Command::FinishSecretRotation { .. }
            | Command::PurgeSecret { .. }
            | Command::TagResource { resource: ResourceRef::Secret(_), .. }
            | Command::UntagResource { resource: ResourceRef::Secret(_), .. }
            | Command::CreateCertificate { .. }
            | Command::ImportCertificate { .. }
            | Command::ExportCertificate { .. }
            | Command::UploadCertificate { .. }
            | Command::UpdateCertificateStatus { .. }
            | Command::DeleteCertificate { .. }
            | Command::TagResource { resource: ResourceRef::Certificate(_), .. }
            | Command::UntagResource { resource: ResourceRef::Certificate(_), .. } => None,
            Command::PurgeKey { key_id, .. }
            | Command::RotateKey { key_id, .. }
            | Command::ExpireKeyMaterial { key_id, .. } => Some(key_id),
            Command::CreateAlias { alias } => Some(&alias.key_id),
            Command::UpdateAlias { key_id, .. } => Some(key_id),
            Command::TagResource { resource: ResourceRef::Key(key_id), .. }
            | Command::UntagResource { resource: ResourceRef::Key(key_id), .. } => Some(key_id),
            Command::UpdateKeyDescription { key_id, .. }
            | Command::SetKeyEnabled { key_id, .. }
            | Command::ScheduleKeyDeletion { key_id, .. }
            | Command::CancelKeyDeletion { key_id }
            | Command::SetDeletionProtection { key_id, .. }
            | Command::UpdateRotationPolicy { key_id, .. } => Some(key_id),
        }
    }
}

/// A command with its request context: the application data of a Raft log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandEnvelope {
    /// Request context.
    pub meta: CommandMeta,
    /// The change.
    pub command: Command,
}

/// The application data of one Raft log entry: commands proposed together (the leader's proposer
/// batches concurrent writes so that one log append and one fsync carry many of them), applied in
/// order, each with its own effects and audit event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The commands, in the order they are applied.
    pub commands: Vec<CommandEnvelope>,
}

/// What applying a log entry returns: one response per command of its [`Proposal`], in order
/// (empty for blank and membership entries).
pub type ProposalResponse = Vec<CommandResponse>;

/// What a successfully applied command returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandOutput {
    /// Nothing to return (also blank and membership entries).
    None,
    /// The key as created or changed.
    Key(KeyMetadata),
    /// The command's precondition no longer held; it was recorded and changed nothing.
    NoOp,
    /// The secret as created or changed.
    Secret(Box<SecretMetadata>),
    /// The certificate as created or changed.
    Certificate(Box<CertificateMetadata>),
}

/// The response of applying one command: an output or the API error decided in apply.
pub type CommandResponse = Result<CommandOutput, ApiError>;
