//! The one action table: every action the API serves, declared once with its plane, its handler,
//! the parameters it requires and the name its command has in the audit trail.
//!
//! Dispatch (`Action::dispatch`), a worker's choice between serving and forwarding (`server.rs`),
//! the status table of docs/API.md (checked by the tidy test, crates/yaoshi-tidy) and every other
//! list of actions read this table. A row names its handler by path, so a row without a handler
//! does not compile; a handler is `async fn(&ApiState, &RequestContext, &Params) ->
//! Result<Fields, ApiError>` in one of the modules below.
//!
//! Adding an action: a row here, its handler in the module of its domain, its row in docs/API.md
//! and a test.

mod account;
mod aliases;
mod asymmetric;
mod byok;
mod certificates;
mod crypto;
mod datakey;
mod keys;
mod mac;
mod passwords;
mod random;
mod secrets;
mod tags;

#[cfg(test)]
mod data_plane_test;

use yaoshi_model::ApiError;

use crate::context::RequestContext;
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{Fields, write_error};

/// How an action is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// Control plane, a state change: a command replicated through Raft.
    Write,
    /// Control plane, a read: linearizable (read-index barrier, then the local replica).
    Read,
    /// Data plane: an operation on the local replica's key material, no Raft round trip; a
    /// worker serves it itself.
    Data,
}

/// One row of the action table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionInfo {
    /// The wire name (`Action` parameter, `x-acs-action` header).
    pub name: &'static str,
    /// How it is executed.
    pub plane: Plane,
    /// The handler's path below `actions/` (e.g. `keys::create_key`), as written in the row.
    pub handler: &'static str,
    /// Parameters that must be present and non-empty (`MissingParameter` otherwise), checked in
    /// this order before the handler runs.
    pub required: &'static [&'static str],
    /// The name of the command it proposes, as the audit trail records it (`None`: it proposes
    /// nothing).
    pub audit: Option<&'static str>,
}

macro_rules! define_actions {
    ($($variant:ident => ($plane:ident, $($handler:ident)::+, [$($required:literal),*], $audit:expr),)*) => {
        /// An action the API serves: one variant per row of the action table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $(
                #[doc = concat!("`", stringify!($variant), "`, handled by `", stringify!($($handler)::+), "`.")]
                $variant,
            )*
        }

        /// Every action served, in table order. Actions of the reference not listed here are not
        /// implemented yet and answer `InvalidParameter` for `Action`.
        pub const ACTIONS: &[ActionInfo] = &[$(
            ActionInfo {
                name: stringify!($variant),
                plane: Plane::$plane,
                handler: stringify!($($handler)::+),
                required: &[$($required),*],
                audit: $audit,
            },
        )*];

        impl Action {
            /// Every action, in table order (`ACTIONS[a as usize]` is `a`'s row).
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The action named `name` on the wire.
            pub fn from_name(name: &str) -> Option<Action> {
                match name {
                    $(stringify!($variant) => Some(Action::$variant),)*
                    _ => None,
                }
            }

            /// Runs the action's handler.
            async fn run(
                self,
                api: &ApiState,
                ctx: &RequestContext,
                p: &Params,
            ) -> Result<Fields, ApiError> {
                match self {
                    $(Action::$variant => $($handler)::+(api, ctx, p).await,)*
                }
            }
        }
    };
}

define_actions! {
    CreateKey => (Write, keys::create_key, [], Some("CreateKey")),
    DescribeKey => (Read, keys::describe_key, ["KeyId"], None),
    ListKeys => (Read, keys::list_keys, [], None),
    DescribeKeyVersion => (Read, keys::describe_key_version, ["KeyId", "KeyVersionId"], None),
    ListKeyVersions => (Read, keys::list_key_versions, ["KeyId"], None),
    CreateKeyVersion => (Write, keys::create_key_version, ["KeyId"], Some("CreateKeyVersion")),
    UpdateKeyDescription => (Write, keys::update_key_description, ["KeyId"], Some("UpdateKeyDescription")),
    EnableKey => (Write, keys::enable_key, ["KeyId"], Some("EnableKey")),
    DisableKey => (Write, keys::disable_key, ["KeyId"], Some("DisableKey")),
    ScheduleKeyDeletion => (Write, keys::schedule_key_deletion, ["KeyId"], Some("ScheduleKeyDeletion")),
    CancelKeyDeletion => (Write, keys::cancel_key_deletion, ["KeyId"], Some("CancelKeyDeletion")),
    SetDeletionProtection => (Write, keys::set_deletion_protection, ["ProtectedResourceArn"], Some("SetDeletionProtection")),
    UpdateRotationPolicy => (Write, keys::update_rotation_policy, ["KeyId"], Some("UpdateRotationPolicy")),
    CreateAlias => (Write, aliases::create_alias, ["AliasName"], Some("CreateAlias")),
    UpdateAlias => (Write, aliases::update_alias, ["AliasName"], Some("UpdateAlias")),
    DeleteAlias => (Write, aliases::delete_alias, ["AliasName"], Some("DeleteAlias")),
    ListAliases => (Read, aliases::list_aliases, [], None),
    ListAliasesByKeyId => (Read, aliases::list_aliases_by_key_id, ["KeyId"], None),
    TagResource => (Write, tags::tag_resource, [], Some("TagResource")),
    UntagResource => (Write, tags::untag_resource, [], Some("UntagResource")),
    ListResourceTags => (Read, tags::list_resource_tags, [], None),
    DescribeRegions => (Data, account::describe_regions, [], None),
    OpenKmsService => (Data, account::open_kms_service, [], None),
    DescribeAccountKmsStatus => (Data, account::describe_account_kms_status, [], None),
    Encrypt => (Data, crypto::encrypt, ["KeyId", "Plaintext"], None),
    Decrypt => (Data, crypto::decrypt, ["CiphertextBlob"], None),
    GenerateDataKey => (Data, datakey::generate_data_key, ["KeyId"], None),
    GenerateDataKeyWithoutPlaintext => (Data, datakey::generate_data_key_without_plaintext, ["KeyId"], None),
    GetPublicKey => (Data, asymmetric::get_public_key, ["KeyId", "KeyVersionId"], None),
    ReEncrypt => (Data, crypto::re_encrypt, ["DestinationKeyId"], None),
    ExportDataKey => (Data, datakey::export_data_key, ["CiphertextBlob"], None),
    GenerateAndExportDataKey => (Data, datakey::generate_and_export_data_key, ["KeyId"], None),
    AsymmetricSign => (Data, asymmetric::asymmetric_sign, ["KeyId", "KeyVersionId", "Algorithm"], None),
    AsymmetricVerify => (Data, asymmetric::asymmetric_verify, ["Value"], None),
    AsymmetricEncrypt => (Data, asymmetric::asymmetric_encrypt, ["Plaintext"], None),
    AsymmetricDecrypt => (Data, asymmetric::asymmetric_decrypt, ["CiphertextBlob"], None),
    GetParametersForImport => (Write, byok::get_parameters_for_import, ["KeyId"], Some("GetParametersForImport")),
    ImportKeyMaterial => (Write, byok::import_key_material, ["KeyId", "EncryptedKeyMaterial", "ImportToken"], Some("ImportKeyMaterial")),
    DeleteKeyMaterial => (Write, byok::delete_key_material, ["KeyId"], Some("DeleteKeyMaterial")),
    GetRandomPassword => (Data, passwords::get_random_password, [], None),
    GenerateRandom => (Data, random::generate_random, ["NumberOfBytes"], None),
    GenerateMac => (Data, mac::generate_mac, ["KeyId", "Message"], None),
    VerifyMac => (Data, mac::verify_mac, ["KeyId", "Message", "MacData"], None),
    CreateSecret => (Write, secrets::create_secret, ["SecretName", "VersionId", "SecretData"], Some("CreateSecret")),
    GetSecretValue => (Data, secrets::get_secret_value, ["SecretName"], None),
    PutSecretValue => (Write, secrets::put_secret_value, ["SecretName", "VersionId", "SecretData"], Some("PutSecretValue")),
    ListSecretVersionIds => (Read, secrets::list_secret_version_ids, ["SecretName"], None),
    UpdateSecretVersionStage => (Write, secrets::update_secret_version_stage, ["SecretName", "VersionStage"], Some("UpdateSecretVersionStage")),
    DescribeSecret => (Read, secrets::describe_secret, ["SecretName"], None),
    UpdateSecret => (Write, secrets::update_secret, ["SecretName"], Some("UpdateSecret")),
    ListSecrets => (Read, secrets::list_secrets, [], None),
    DeleteSecret => (Write, secrets::delete_secret, ["SecretName"], Some("DeleteSecret")),
    RestoreSecret => (Write, secrets::restore_secret, ["SecretName"], Some("RestoreSecret")),
    RotateSecret => (Write, secrets::rotate_secret, ["SecretName", "VersionId"], Some("RotateSecret")),
    UpdateSecretRotationPolicy => (Write, secrets::update_secret_rotation_policy, ["SecretName", "EnableAutomaticRotation"], Some("UpdateSecretRotationPolicy")),
    DescribeScheduledActions => (Read, secrets::describe_scheduled_actions, [], None),
    CreateCertificate => (Write, certificates::create_certificate, ["KeySpec", "Subject"], Some("CreateCertificate")),
    UploadCertificate => (Write, certificates::upload_certificate, ["CertificateId", "Certificate"], Some("UploadCertificate")),
    GetCertificate => (Read, certificates::get_certificate, ["CertificateId"], None),
    DescribeCertificate => (Read, certificates::describe_certificate, ["CertificateId"], None),
    UpdateCertificateStatus => (Write, certificates::update_certificate_status, ["CertificateId", "Status"], Some("UpdateCertificateStatus")),
    DeleteCertificate => (Write, certificates::delete_certificate, ["CertificateId"], Some("DeleteCertificate")),
    CertificatePrivateKeySign => (Data, certificates::certificate_private_key_sign, ["CertificateId", "Algorithm", "Message"], None),
    CertificatePublicKeyVerify => (Data, certificates::certificate_public_key_verify, ["CertificateId", "Algorithm", "Message", "SignatureValue"], None),
    CertificatePublicKeyEncrypt => (Data, certificates::certificate_public_key_encrypt, ["CertificateId", "Algorithm", "Plaintext"], None),
    CertificatePrivateKeyDecrypt => (Data, certificates::certificate_private_key_decrypt, ["CertificateId", "Algorithm", "CiphertextBlob"], None),
    ImportCertificate => (Write, certificates::import_certificate, ["Pkcs12", "PrivateKeyPassword"], Some("ImportCertificate")),
    ExportCertificate => (Write, certificates::export_certificate, ["CertificateId", "PrivateKeyPassword"], Some("ExportCertificate")),
}

impl ActionInfo {
    /// The CTyun EOP group the action is reached under (`/v1/<group>/<action>`), by the module of
    /// its handler (docs/API.md "CTyun EOP surface" lists them).
    pub fn eop_group(&self) -> &'static str {
        match self.handler.split("::").next().map(str::trim) {
            Some("crypto" | "datakey" | "asymmetric" | "random" | "mac") => "cryptoOps",
            Some("tags") => "tagManage",
            Some("passwords" | "secrets") => "secretManage",
            Some("certificates") => "certManage",
            _ => "cmkManage",
        }
    }
}

impl Action {
    /// The action an EOP route names: `group` must be the action's [`ActionInfo::eop_group`] and
    /// `name` its wire name in lowerCamelCase (`enableKey`).
    pub fn from_eop(group: &str, name: &str) -> Option<Action> {
        let action = Action::from_name(&yaoshi_sign::api_name(name))?;
        let info = action.info();
        (info.eop_group() == group && yaoshi_sign::eop_name(info.name) == name).then_some(action)
    }

    /// The action's row in the table.
    pub fn info(self) -> &'static ActionInfo {
        &ACTIONS[self as usize]
    }

    /// Runs the action for an authenticated request: the required parameters are checked in
    /// table order, a Read passes a linearizable barrier first, then the handler runs.
    pub(crate) async fn dispatch(
        self,
        api: &ApiState,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Fields, ApiError> {
        let info = self.info();
        for name in info.required {
            p.required(name)?;
        }
        if info.plane == Plane::Read {
            api.node()?.read_barrier().await.map_err(write_error)?;
        }
        self.run(api, ctx, p).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eop_routes_name_an_action_in_its_group() {
        assert_eq!(Action::from_eop("cmkManage", "enableKey"), Some(Action::EnableKey));
        assert_eq!(Action::from_eop("cryptoOps", "generateDataKey"), Some(Action::GenerateDataKey));
        assert_eq!(Action::from_eop("cryptoOps", "asymmetricSign"), Some(Action::AsymmetricSign));
        assert_eq!(Action::from_eop("tagManage", "tagResource"), Some(Action::TagResource));
        assert_eq!(Action::from_eop("cryptoOps", "generateMac"), Some(Action::GenerateMac));
        assert_eq!(Action::from_eop("cryptoOps", "verifyMac"), Some(Action::VerifyMac));
        assert_eq!(Action::from_eop("cmkManage", "EnableKey"), None, "lowerCamelCase only");
        assert_eq!(Action::from_eop("cryptoOps", "enableKey"), None, "another group's action");
        assert_eq!(Action::from_eop("cmkManage", "cmkUuid"), None);
        for action in Action::ALL {
            let info = action.info();
            let name = yaoshi_sign::eop_name(info.name);
            assert_eq!(Action::from_eop(info.eop_group(), &name), Some(*action), "{}", info.name);
        }
    }

    #[test]
    fn rows_and_variants_line_up() {
        assert_eq!(Action::ALL.len(), ACTIONS.len());
        for (i, action) in Action::ALL.iter().enumerate() {
            assert_eq!(*action as usize, i);
            assert_eq!(Action::from_name(action.info().name), Some(*action));
        }
        assert_eq!(Action::from_name("NoSuchAction"), None);
        assert_eq!(Action::from_name("createKey"), None, "wire names are case-sensitive");
    }

    /// Writes name the command they propose (the audit name); reads and the data plane propose
    /// nothing. `support::propose` refuses a command that is not the row's.
    #[test]
    fn exactly_the_writes_have_an_audit_name() {
        for row in ACTIONS {
            assert_eq!(row.plane == Plane::Write, row.audit.is_some(), "{}", row.name);
        }
    }
}
