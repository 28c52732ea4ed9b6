//! The compiled policies of the access points in use (`access.rs` checks requests with them),
//! kept until the replica's access generation moves.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use yaoshi_model::policy::CompiledPolicies;
use yaoshi_model::{ApiError, ErrorCode};
use yaoshi_worker::Replica;

/// Compiled policies of the access points in use, valid while the replica's access generation
/// stays where it was when they were compiled.
#[derive(Debug, Default)]
pub(crate) struct PolicyCache {
    inner: RwLock<(u64, HashMap<String, Arc<CompiledPolicies>>)>,
}

impl PolicyCache {
    /// The compiled policies of `name` (empty when it does not exist: deny by default), indexed
    /// for `actions` (the action table's names).
    pub(crate) fn get(
        &self,
        replica: &dyn Replica,
        name: &str,
        actions: &[&str],
    ) -> Result<Arc<CompiledPolicies>, ApiError> {
        let generation = replica.access_generation();
        {
            let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
            if inner.0 == generation
                && let Some(c) = inner.1.get(name)
            {
                return Ok(c.clone());
            }
        }
        let policies = replica
            .access_point(name)
            .map_err(|e| {
                tracing::error!(error = %e, "access point lookup failed");
                ApiError::new(ErrorCode::InternalFailure)
            })?
            .map(|a| a.policies)
            .unwrap_or_default();
        let compiled = Arc::new(CompiledPolicies::new(policies, actions));
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if inner.0 != generation {
            *inner = (generation, HashMap::new());
        }
        // Keep it only if nothing changed while compiling.
        if replica.access_generation() == generation {
            inner.1.insert(name.to_string(), compiled.clone());
        }
        Ok(compiled)
    }
}
