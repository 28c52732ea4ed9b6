//! `yaoshi cluster status|add|promote|remove`: membership administration of a region's Raft group
//! through any node's admin listener (`admin_listen`; changes are forwarded to the leader by the
//! node, and the node asks every member for its status).
//!
//! Adding a node: start it with `join = true` (or `--join`), then `yaoshi cluster add ID ADDR`
//! (it becomes a learner and catches up, by snapshot when the log was compacted), then
//! `yaoshi cluster promote ID`. A wiped node rejoins the same way after `yaoshi cluster remove ID`.

use std::collections::BTreeMap;

use anyhow::Context;
use yaoshi_raft::{AdminClient, MemberStatus};

/// Arguments of `yaoshi cluster`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClusterArgs {
    #[command(flatten)]
    target: crate::credential::AdminTarget,
    #[command(subcommand)]
    command: ClusterCmd,
}

#[derive(Debug, clap::Subcommand)]
enum ClusterCmd {
    /// Members, leader, term, last log, committed and applied index of every member.
    Status,
    /// Add a node as a learner and wait until it has caught up.
    Add {
        /// The new node's id.
        id: u64,
        /// The new node's gRPC address.
        addr: String,
    },
    /// Make a learner a voter.
    Promote {
        /// The learner's id.
        id: u64,
    },
    /// Remove a voter or a learner (stop its process afterwards).
    Remove {
        /// The node's id.
        id: u64,
    },
}

pub(crate) async fn run(args: ClusterArgs) -> anyhow::Result<()> {
    let crate::credential::AdminTarget { admin, region, tls } = &args.target;
    let region = region.as_str();
    let tls = tls.load(admin)?;
    let server = yaoshi_raft::tls::region_name(region);
    let mut client = AdminClient::connect(admin, tls.as_deref(), &server).await?;
    let changed = match args.command {
        ClusterCmd::Status => None,
        ClusterCmd::Add { id, addr } => {
            let s = client.add_learner(region, id, &addr).await.context("add")?;
            println!("node {id} added as a learner at {addr}");
            Some(s)
        }
        ClusterCmd::Promote { id } => {
            let s = client.promote(region, id).await.context("promote")?;
            println!("node {id} is a voter");
            Some(s)
        }
        ClusterCmd::Remove { id } => {
            let s = client.remove(region, id).await.context("remove")?;
            println!("node {id} removed");
            Some(s)
        }
    };
    // After a change, the node that was asked (it forwarded the change to the leader) shows the
    // new membership once it has applied it: wait a little for that.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    let all = loop {
        let all = client.members(region).await?;
        let caught_up = changed
            .as_ref()
            .is_none_or(|s| s.voters == all.view.voters && s.learners == all.view.learners);
        if caught_up || tokio::time::Instant::now() >= deadline {
            break all;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    print!("{}", render(region, &all.view, &all.members));
    Ok(())
}

fn index(i: Option<u64>) -> String {
    i.map_or_else(|| "-".to_string(), |i| i.to_string())
}

/// The status table: one row per member, as each member reports itself.
fn render(
    region: &str,
    view: &MemberStatus,
    members: &BTreeMap<u64, Result<MemberStatus, String>>,
) -> String {
    let mut out = format!(
        "region {region}: leader {}, term {}, voters {:?}, learners {:?}{}\n",
        index(view.leader),
        view.term,
        view.voters.keys().collect::<Vec<_>>(),
        view.learners.keys().collect::<Vec<_>>(),
        if view.joint { " (joint configuration)" } else { "" }
    );
    out.push_str(&format!(
        "{:>4}  {:<21}  {:<9}  {:>6}  {:>8}  {:>9}  {:>8}  {:>8}\n",
        "id", "address", "state", "term", "last log", "committed", "applied", "snapshot"
    ));
    for (id, status) in members {
        let addr =
            view.voters.get(id).or_else(|| view.learners.get(id)).cloned().unwrap_or_default();
        match status {
            Ok(s) => out.push_str(&format!(
                "{:>4}  {:<21}  {:<9}  {:>6}  {:>8}  {:>9}  {:>8}  {:>8}\n",
                id,
                addr,
                s.state.to_string(),
                s.term,
                index(s.last_log_index),
                index(s.committed),
                index(s.applied),
                index(s.snapshot)
            )),
            Err(e) => out.push_str(&format!("{id:>4}  {addr:<21}  unreachable: {e}\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaoshi_raft::NodeState;

    #[test]
    fn the_table_has_a_row_per_member() {
        let view = MemberStatus {
            node_id: 1,
            state: NodeState::Leader,
            leader: Some(1),
            term: 3,
            last_log_index: Some(10),
            committed: Some(10),
            applied: Some(10),
            snapshot: None,
            voters: BTreeMap::from([(1, "127.0.0.1:9181".into()), (2, "127.0.0.1:9182".into())]),
            learners: BTreeMap::from([(4, "127.0.0.1:9184".into())]),
            joint: false,
        };
        let members = BTreeMap::from([
            (1, Ok(view.clone())),
            (2, Err("connection refused".to_string())),
            (4, Ok(MemberStatus { node_id: 4, state: NodeState::Learner, ..view.clone() })),
        ]);
        let table = render("cn-hangzhou", &view, &members);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "{table}");
        assert!(lines[0].contains("leader 1, term 3, voters [1, 2], learners [4]"), "{table}");
        assert!(lines[2].contains("Leader") && lines[2].contains("127.0.0.1:9181"), "{table}");
        assert!(lines[3].contains("unreachable: connection refused"), "{table}");
        assert!(lines[4].contains("Learner"), "{table}");
    }
}
