//! `yaoshi credential create|list|rotate|revoke|scope` and `yaoshi access-point
//! put|list|delete`: the region's AccessKeys and the access points whose policies scope them,
//! through any node's admin listener (`admin_listen`, the operator certificate; changes are
//! replicated through Raft). A new secret is printed once, on stdout; nothing else ever shows it.

use anyhow::Context;
use yaoshi_raft::AccessClient;
use yaoshi_raft::pb::access::CredentialInfo;

/// Where and as whom `yaoshi cluster`, `yaoshi credential` and `yaoshi access-point` connect.
#[derive(Debug, clap::Args)]
pub(crate) struct AdminTarget {
    /// Admin listener (`admin_listen`, `host:port`) of any node of the region.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9191", global = true)]
    pub(crate) admin: String,
    /// The region.
    #[arg(long, default_value = "cn-hangzhou", global = true)]
    pub(crate) region: String,
    /// The operator certificate (`yaoshi cert issue --admin`).
    #[command(flatten)]
    pub(crate) tls: crate::tls_args::TlsArgs,
}

impl AdminTarget {
    async fn connect(&self) -> anyhow::Result<AccessClient> {
        let tls = self.tls.load(&self.admin)?;
        AccessClient::connect(&self.admin, tls.as_deref(), &self.region)
            .await
            .with_context(|| format!("connecting to {}", self.admin))
    }
}

/// Arguments of `yaoshi credential`.
#[derive(Debug, clap::Args)]
pub(crate) struct CredentialArgs {
    #[command(flatten)]
    target: AdminTarget,
    #[command(subcommand)]
    command: CredentialCmd,
}

#[derive(Debug, clap::Subcommand)]
enum CredentialCmd {
    /// Create an AccessKey; its secret is printed once.
    Create {
        /// Hold it to this access point's policies (default: unscoped, may do everything).
        #[arg(long)]
        access_point: Option<String>,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List the AccessKeys (never their secrets).
    List,
    /// Give an AccessKey a new secret (printed once); the old one works for the grace period.
    Rotate {
        /// The AccessKey id.
        id: String,
        /// How long the old secret keeps working, in seconds (at most 30 days).
        #[arg(long, default_value_t = 86_400)]
        grace_seconds: u64,
    },
    /// Revoke an AccessKey: its secrets stop working on every node and worker.
    Revoke {
        /// The AccessKey id.
        id: String,
    },
    /// Hold an AccessKey to an access point, or (without --access-point) unscope it.
    Scope {
        /// The AccessKey id.
        id: String,
        /// The access point.
        #[arg(long)]
        access_point: Option<String>,
    },
}

/// Arguments of `yaoshi access-point`.
#[derive(Debug, clap::Args)]
pub(crate) struct AccessPointArgs {
    #[command(flatten)]
    target: AdminTarget,
    #[command(subcommand)]
    command: AccessPointCmd,
}

#[derive(Debug, clap::Subcommand)]
enum AccessPointCmd {
    /// Create or replace an access point with the policies of a JSON file:
    /// `[{"Name": "…", "Actions": ["Encrypt*"], "Resources": ["acs:kms:*:*:key/…"],
    /// "SourceCidrs": ["10.0.0.0/8"]}]` (docs/API.md "Access points").
    Put {
        /// Its name.
        name: String,
        /// The policy file.
        #[arg(long, value_name = "FILE")]
        policies: std::path::PathBuf,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List the access points with their policies.
    List,
    /// Delete an access point no credential is held to.
    Delete {
        /// Its name.
        name: String,
    },
}

/// The node's refusal as the operator should read it.
fn said(s: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}", s.message())
}

fn print_credential(c: &CredentialInfo) {
    let scope = if c.access_point.is_empty() { "(unscoped)" } else { c.access_point.as_str() };
    let retiring = match c.retiring_until_ms {
        0 => String::new(),
        ms => format!(" old-secret-until-ms={ms}"),
    };
    println!(
        "{} account={} access-point={scope}{retiring} {}",
        c.access_key_id, c.account_id, c.description
    );
}

pub(crate) async fn run_credential(args: CredentialArgs) -> anyhow::Result<()> {
    let mut client = args.target.connect().await?;
    match args.command {
        CredentialCmd::Create { access_point, description } => {
            let made = client.create(access_point.as_deref(), &description).await.map_err(said)?;
            let c = made.credential.unwrap_or_default();
            println!("AccessKeyId={}", c.access_key_id);
            println!("AccessKeySecret={}", made.access_key_secret);
        }
        CredentialCmd::List => {
            for c in client.list().await.map_err(said)? {
                print_credential(&c);
            }
        }
        CredentialCmd::Rotate { id, grace_seconds } => {
            let rotated = client.rotate(&id, grace_seconds).await.map_err(said)?;
            println!("AccessKeyId={id}");
            println!("AccessKeySecret={}", rotated.access_key_secret);
            if let Some(c) = rotated.credential
                && c.retiring_until_ms > 0
            {
                eprintln!("the old secret works until {} (Unix ms)", c.retiring_until_ms);
            }
        }
        CredentialCmd::Revoke { id } => {
            client.revoke(&id).await.map_err(said)?;
            eprintln!("revoked {id}");
        }
        CredentialCmd::Scope { id, access_point } => {
            client.scope(&id, access_point.as_deref()).await.map_err(said)?;
            eprintln!(
                "{id} now {}",
                access_point.map_or("unscoped".into(), |a| format!("held to {a}"))
            );
        }
    }
    Ok(())
}

pub(crate) async fn run_access_point(args: AccessPointArgs) -> anyhow::Result<()> {
    let mut client = args.target.connect().await?;
    match args.command {
        AccessPointCmd::Put { name, policies, description } => {
            let text = std::fs::read_to_string(&policies)
                .with_context(|| format!("reading {}", policies.display()))?;
            client.put_access_point(&name, &description, &text).await.map_err(said)?;
            eprintln!("access point {name} stored");
        }
        AccessPointCmd::List => {
            for a in client.access_points().await.map_err(said)? {
                println!("{}\t{}\t{}", a.name, a.description, a.policies_json);
            }
        }
        AccessPointCmd::Delete { name } => {
            client.delete_access_point(&name).await.map_err(said)?;
            eprintln!("access point {name} deleted");
        }
    }
    Ok(())
}
