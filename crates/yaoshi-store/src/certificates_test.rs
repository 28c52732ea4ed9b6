//! Certificate apply rules (apply/certificates.rs): creation is PENDING whatever the proposer
//! sent, an import is ACTIVE, ids are unique, the status rules hold, and ExportCertificate writes
//! nothing but is refused unless the certificate is exportable and ACTIVE, with every attempt in
//! the audit trail.

use yaoshi_model::{
    AuditOutcome, CertificateMetadata, CertificateStatus, Command, CommandOutput, ErrorCode,
    KeySpec, Tag,
};

use openraft::storage::RaftStateMachine;
use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId};
use yaoshi_model::{CommandEnvelope, CommandMeta, Proposal};

use crate::test_support::{T0, open, run};
use crate::{RocksStateMachine, StateReader, TypeConfig};

fn certificate(id: &str, exportable: bool) -> CertificateMetadata {
    CertificateMetadata {
        certificate_id: id.to_string(),
        key_spec: KeySpec::EcP256,
        subject: "CN=test".to_string(),
        sans: Vec::new(),
        exportable,
        status: CertificateStatus::Active,
        csr_pem: "csr".to_string(),
        certificate_pem: Some("certificate".to_string()),
        chain_pem: None,
        wrapped_private_key: vec![1, 2, 3],
        creation_ms: T0,
        update_ms: T0,
    }
}

fn status(db: &crate::RegionDb, id: &str) -> Option<CertificateStatus> {
    StateReader::new(db.clone()).certificate(id).unwrap().map(|c| c.status)
}

fn code(r: yaoshi_model::CommandResponse) -> ErrorCode {
    r.expect_err("refused").code
}

fn export(id: &str) -> Command {
    Command::ExportCertificate { certificate_id: id.to_string() }
}

#[tokio::test]
async fn status_rules_and_export_authorization() {
    let (_dir, db) = open();
    let tags = vec![Tag { key: "k".into(), value: "v".into() }];
    let create = |id: &str, exportable: bool| Command::CreateCertificate {
        metadata: Box::new(certificate(id, exportable)),
        tags: tags.clone(),
    };
    // Created PENDING with nothing uploaded, whatever the proposer sent; ids are unique.
    assert!(run(&db, T0, create("c1", true)).is_ok());
    let stored = StateReader::new(db.clone()).certificate("c1").unwrap().unwrap();
    assert_eq!(stored.status, CertificateStatus::Pending);
    assert_eq!(stored.certificate_pem, None);
    assert_eq!(code(run(&db, T0, create("c1", true))), ErrorCode::ResourceExist);
    // A PENDING certificate exports nothing and takes no status but its own.
    assert_eq!(code(run(&db, T0, export("c1"))), ErrorCode::CertificateNotActive);
    let set = |id: &str, status| Command::UpdateCertificateStatus {
        certificate_id: id.to_string(),
        status,
    };
    assert_eq!(
        code(run(&db, T0, set("c1", CertificateStatus::Active))),
        ErrorCode::StateModifiedFailed
    );
    let upload = Command::UploadCertificate {
        certificate_id: "c1".into(),
        certificate_pem: "cert".into(),
        chain_pem: String::new(),
    };
    assert!(run(&db, T0 + 1, upload.clone()).is_ok());
    assert_eq!(status(&db, "c1"), Some(CertificateStatus::Active));

    // ACTIVE and exportable: the export is authorized and answers the certificate; nothing
    // changes.
    match run(&db, T0 + 2, export("c1")) {
        Ok(CommandOutput::Certificate(meta)) => assert_eq!(meta.certificate_id, "c1"),
        other => panic!("export refused: {other:?}"),
    }
    let after = StateReader::new(db.clone()).certificate("c1").unwrap().unwrap();
    assert_eq!(after.update_ms, T0 + 1, "an export writes nothing");
    assert!(run(&db, T0, set("c1", CertificateStatus::Inactive)).is_ok());
    assert_eq!(code(run(&db, T0, export("c1"))), ErrorCode::CertificateNotActive);
    assert!(run(&db, T0, set("c1", CertificateStatus::Revoked)).is_ok());
    assert_eq!(code(run(&db, T0, export("c1"))), ErrorCode::CertificateNotActive);
    // REVOKED is final, and takes no upload.
    assert_eq!(
        code(run(&db, T0, set("c1", CertificateStatus::Active))),
        ErrorCode::StateModifiedFailed
    );
    assert!(run(&db, T0, upload).is_err());

    // Imported ACTIVE; not exportable is refused as such whatever the status.
    let import = Command::ImportCertificate {
        metadata: Box::new(CertificateMetadata {
            status: CertificateStatus::Pending,
            ..certificate("c2", false)
        }),
        tags: Vec::new(),
    };
    assert!(run(&db, T0, import).is_ok());
    assert_eq!(status(&db, "c2"), Some(CertificateStatus::Active));
    assert_eq!(code(run(&db, T0, export("c2"))), ErrorCode::PrivateKeyNotExportable);
    assert_eq!(code(run(&db, T0, export("missing"))), ErrorCode::CertificateNotFound);
    let delete = Command::DeleteCertificate { certificate_id: "c2".into() };
    assert!(run(&db, T0, delete.clone()).is_ok());
    assert_eq!(status(&db, "c2"), None);
    assert_eq!(code(run(&db, T0, delete)), ErrorCode::CertificateNotFound);

    // Through the state machine, every export attempt is in the audit trail with its
    // certificate and outcome.
    assert!(
        run(
            &db,
            T0,
            Command::ImportCertificate {
                metadata: Box::new(certificate("c3", true)),
                tags: Vec::new(),
            }
        )
        .is_ok()
    );
    let envelope = |id: &str| CommandEnvelope {
        meta: CommandMeta {
            request_id: format!("export-{id}"),
            principal: None,
            nonce: None,
            at_ms: T0,
        },
        command: export(id),
    };
    let proposal = Proposal { commands: vec![envelope("c1"), envelope("c3"), envelope("missing")] };
    let entry = Entry::<TypeConfig> {
        log_id: LogId::new(CommittedLeaderId::new(1, 1), 9),
        payload: EntryPayload::Normal(proposal),
    };
    let mut sm = RocksStateMachine::new(db.clone()).unwrap();
    let responses = sm.apply([entry]).await.unwrap();
    assert_eq!(responses[0].len(), 3);
    let exports: Vec<_> = StateReader::new(db.clone())
        .audit_events()
        .unwrap()
        .into_iter()
        .filter(|e| e.log_index == 9)
        .map(|e| (e.action, e.target.unwrap_or_default(), e.outcome))
        .collect();
    let audited = |id: &str, outcome| ("ExportCertificate".to_string(), id.to_string(), outcome);
    assert_eq!(
        exports,
        vec![
            audited("c1", AuditOutcome::Rejected(ErrorCode::CertificateNotActive)),
            audited("c3", AuditOutcome::Applied),
            audited("missing", AuditOutcome::Rejected(ErrorCode::CertificateNotFound)),
        ]
    );
}
