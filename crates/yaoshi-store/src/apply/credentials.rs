//! Credentials: the cluster's bootstrap credential.

use rocksdb::{IteratorMode, WriteBatch};
use yaoshi_model::{CommandOutput, CommandResponse, Credential};

use crate::codec::encode;
use crate::db::{CF_CREDENTIALS, RegionDb};

/// BootstrapCredential: stores the credential only if no credential exists yet (a recorded no-op
/// otherwise: every initial member proposes one, the first wins).
pub(crate) fn bootstrap(
    db: &RegionDb,
    batch: &mut WriteBatch,
    credential: &Credential,
) -> Result<CommandResponse, rocksdb::Error> {
    let cf = db.cf(CF_CREDENTIALS);
    let mut any = db.db.iterator_cf(cf, IteratorMode::Start);
    if any.next().transpose()?.is_some() {
        return Ok(Ok(CommandOutput::NoOp));
    }
    batch.put_cf(cf, credential.access_key_id.as_str(), encode(credential));
    Ok(Ok(CommandOutput::None))
}
