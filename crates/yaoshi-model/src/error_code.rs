//! The one table of API error codes: code string, HTTP status and message template.

use serde::{Deserialize, Serialize};

macro_rules! define_error_codes {
    ($($variant:ident => ($code:literal, $status:literal, $message:literal),)*) => {
        /// An API error code of the Alibaba KMS 2016-01-20 contract (docs/DESIGN.md §3).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $code, "` (HTTP ", stringify!($status), ").")]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code string sent to clients.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The HTTP status of responses carrying this code.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }

            /// The default message; `{}` in a template is replaced by the subject (a parameter name).
            pub fn message_template(self) -> &'static str {
                match self { $(ErrorCode::$variant => $message,)* }
            }
        }
    };
}

define_error_codes! {
    InternalFailure => ("InternalFailure", 500, "Internal Failure."),
    ServiceUnavailableTemporary => ("ServiceUnavailableTemporary", 503, "Service Unavailable Temporary."),
    InvalidAccessKeyIdNotFound => ("InvalidAccessKeyId.NotFound", 404, "The specified AccessKey ID does not exist."),
    KeyNotFound => ("Forbidden.KeyNotFound", 404, "The specified Key is not found."),
    KeyVersionNotFound => ("Forbidden.KeyVersionNotFound", 404, "The specified Key version is not found."),
    AliasNotFound => ("Forbidden.AliasNotFound", 404, "The specified Alias is not found."),
    ResourceNotFound => ("Forbidden.ResourceNotFound", 404, "The resource is not found."),
    CertificateNotFound => ("Certificate.NotFound", 404, "The specified certificate is not found."),
    NoPermission => ("Forbidden.NoPermission", 403, "This operation is forbidden by permission system."),
    AccessKeyForbidden => ("Forbidden.AccessKey", 403, "This AccessKey is not enabled."),
    UnsupportedHttpMethod => ("UnsupportedHTTPMethod", 403, "This http method is not supported."),
    ServiceOpened => ("Forbidden.Opened", 400, "Your kms service has been opened."),
    KmsServiceNotEnabled => ("Forbidden.KmsServiceNotEnabled", 403, "Kms service is not Enabled for current user. Please get access permission first."),
    MissingParameter => ("MissingParameter", 400, "The parameter \"{}\" is needed but not provided."),
    InvalidParameter => ("InvalidParameter", 400, "The specified parameter \"{}\" is not valid."),
    IncompleteSignature => ("IncompleteSignature", 400, "The request signature does not conform to Aliyun standards. server string to sign is:{}"),
    SignatureDoesNotMatch => ("SignatureDoesNotMatch", 400, "Specified signature is not matched with our calculation. server string to sign is:{}"),
    IllegalTimestamp => ("IllegalTimestamp", 400, "The input parameter \"Timestamp\" that is required for processing this request is not supplied or not valid."),
    SignatureNonceUsed => ("SignatureNonceUsed", 400, "The request signature nonce has been used."),
    LimitExceeded => ("Rejected.LimitExceeded", 400, "The request was rejected because user create resource limit was exceeded."),
    AliasAlreadyExists => ("AliasAlreadyExists", 400, "AliasName Already Exists."),
    InvalidKeyMaterial => ("InvalidKeyMaterial", 400, "key material is invalid."),
    InvalidImportToken => ("InvalidImportToken", 400, "import token is invalid."),
    ExpiredImportToken => ("ExpiredImportToken", 400, "import token is expired."),
    UnsupportedOrigin => ("Unsupported.Origin", 400, "This key origin is not valid for this api."),
    UnsupportedAlias => ("Unsupported.Alias", 400, "Alias is not valid for this api."),
    UnsupportedProtectionLevel => ("Unsupported.ProtectionLevel", 400, "This protection level is not valid for this region."),
    UnsupportedKeySpec => ("Unsupported.KeySpec", 400, "This key spec is not valid for this api."),
    UnsupportedOperation => ("Unsupported.Operation", 400, "This operation is not supported."),
    Throttling => ("Throttling", 400, "Request was denied due to request throttling."),
    RejectedThrottling => ("Rejected.Throttling", 429, "Request was denied due to request throttling."),
    MalformedRequest => ("MalformedRequest", 400, "The request is not well-formed HTTP/1.1."),
    RequestTimeout => ("RequestTimeout", 408, "The request did not arrive within the time allowed."),
    RequestTooLarge => ("Rejected.RequestTooLarge", 413, "The request body is larger than allowed."),
    UriTooLong => ("Rejected.UriTooLong", 414, "The request URI is longer than allowed."),
    HeadersTooLarge => ("Rejected.HeadersTooLarge", 431, "The request headers are larger than allowed."),
    StateModifiedFailed => ("Rejected.StateModifiedFailed", 409, "Keystate modified failed."),
    RejectedEnabled => ("Rejected.Enabled", 409, "The request was rejected because the key state is Enabled."),
    RejectedDisabled => ("Rejected.Disabled", 409, "The request was rejected because the key state is Disabled."),
    RejectedPendingDeletion => ("Rejected.PendingDeletion", 409, "The request was rejected because the key state is PendingDeletion."),
    RejectedPendingImport => ("Rejected.PendingImport", 409, "The request was rejected because the key state is PendingImport."),
    ResourceExist => ("Rejected.ResourceExist", 409, "The resource already exists."),
    ResourceInDeleteWindow => ("Rejected.ResourceInDeleteWindow", 409, "The secret is planned to be deleted."),
    CertificateNotActive => ("Rejected.CertificateNotActive", 409, "The request was rejected because the certificate status does not allow it."),
    PrivateKeyNotExportable => ("Forbidden.PrivateKeyNotExportable", 403, "The certificate was created with ExportablePrivateKey false; its private key cannot be exported."),
}

/// An API error as sent to clients: a code from the table and a message.
///
/// It is plain data so that a rejection decided in apply can travel as a command response.
/// Messages never contain key material, secrets or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The code.
    pub code: ErrorCode,
    /// The message sent to the client.
    pub message: String,
}

impl ApiError {
    /// An error with the code's default message (templates get an empty subject).
    pub fn new(code: ErrorCode) -> ApiError {
        ApiError { code, message: code.message_template().replace("{}", "") }
    }

    /// An error whose message template is filled with `subject` (a parameter name, a string to sign).
    pub fn with_subject(code: ErrorCode, subject: &str) -> ApiError {
        ApiError { code, message: code.message_template().replace("{}", subject) }
    }

    /// `MissingParameter` for the named parameter.
    pub fn missing(param: &str) -> ApiError {
        ApiError::with_subject(ErrorCode::MissingParameter, param)
    }

    /// `InvalidParameter` for the named parameter.
    pub fn invalid(param: &str) -> ApiError {
        ApiError::with_subject(ErrorCode::InvalidParameter, param)
    }

    /// The HTTP status of this error.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> ApiError {
        ApiError::new(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {}", code.as_str());
        }
    }

    #[test]
    fn statuses_match_spec() {
        // docs/DESIGN.md §3, one row per status class.
        let expected = [
            ("InternalFailure", 500),
            ("ServiceUnavailableTemporary", 503),
            ("InvalidAccessKeyId.NotFound", 404),
            ("Forbidden.KeyNotFound", 404),
            ("Forbidden.KeyVersionNotFound", 404),
            ("Forbidden.AliasNotFound", 404),
            ("Forbidden.ResourceNotFound", 404),
            ("Certificate.NotFound", 404),
            ("Forbidden.NoPermission", 403),
            ("Forbidden.AccessKey", 403),
            ("UnsupportedHTTPMethod", 403),
            ("Forbidden.KmsServiceNotEnabled", 403),
            ("MissingParameter", 400),
            ("InvalidParameter", 400),
            ("IncompleteSignature", 400),
            ("SignatureDoesNotMatch", 400),
            ("IllegalTimestamp", 400),
            ("SignatureNonceUsed", 400),
            ("Rejected.LimitExceeded", 400),
            ("AliasAlreadyExists", 400),
            ("Unsupported.KeySpec", 400),
            ("Throttling", 400),
            ("Rejected.Throttling", 429),
            ("MalformedRequest", 400),
            ("RequestTimeout", 408),
            ("Rejected.RequestTooLarge", 413),
            ("Rejected.UriTooLong", 414),
            ("Rejected.HeadersTooLarge", 431),
            ("Rejected.StateModifiedFailed", 409),
            ("Rejected.Disabled", 409),
            ("Rejected.PendingDeletion", 409),
            ("Rejected.PendingImport", 409),
            ("Rejected.ResourceExist", 409),
            ("Rejected.ResourceInDeleteWindow", 409),
            ("Rejected.CertificateNotActive", 409),
            ("Forbidden.PrivateKeyNotExportable", 403),
        ];
        for (code, status) in expected {
            let found = ErrorCode::ALL.iter().find(|c| c.as_str() == code);
            assert_eq!(found.map(|c| c.http_status()), Some(status), "{code}");
        }
    }

    #[test]
    fn templates_fill_subject() {
        assert_eq!(
            ApiError::missing("KeyId").message,
            "The parameter \"KeyId\" is needed but not provided."
        );
        let e = ApiError::with_subject(ErrorCode::SignatureDoesNotMatch, "GET&%2F&x");
        assert!(e.message.ends_with("server string to sign is:GET&%2F&x"));
    }
}
