//! Running a command: open the directory and hand the command to its module.

mod connect;
mod csv;
mod demo;
mod erase;
mod events;
mod imports;
mod mapping;
mod migrate;
mod privacy;
mod sandbox;
mod serve;
mod sync;
mod users;
mod worker;

use std::sync::Arc;

use anyhow::Result;
use roster_engine::Engine;
use roster_justworks::UrlPolicy;

use crate::args::{Cli, Command};
use crate::ctx::{self, DbPath};
use crate::exit;

/// Run a parsed command line.
pub async fn run(cli: Cli) -> Result<u8> {
    let db = DbPath(cli.db.clone());
    let account = ctx::AccountArg {
        name: cli.account.clone(),
        given: cli.account_given,
        create: false,
    };
    let json = cli.json;
    match cli.command {
        Command::Demo(args) => demo::run(&db, args, cli.today).await,
        Command::Sandbox(args) => sandbox::sandbox(args, cli.today).await,
        c @ (Command::Serve(_) | Command::DefaultConfig | Command::Openapi | Command::Admin(_)) => {
            let flags = serve::GlobalFlags {
                db: cli.db_given.then(|| cli.db.clone()),
                log: cli.log_given.then(|| cli.log.clone()),
                account: account.clone(),
                allow_private_source_urls: cli.allow_private_source_urls,
            };
            serve::run(&db, c, cli.today, flags, json).await
        }
        Command::Worker(args) => {
            worker::worker(&db, args, cli.today, json, cli.allow_private_source_urls).await
        }
        Command::MigrateStore(args) => migrate::migrate_store(args, json).await,
        Command::Backup(args) => migrate::backup(&db, args, json).await,
        Command::Connect(crate::args::ConnectCommand::Justworks(args)) => {
            let engine = ctx::open_engine(&db, ctx::clock(cli.today), &account).await?;
            let policy =
                ctx::source_policy(&db, engine.store().as_ref(), cli.allow_private_source_urls)
                    .await?;
            connect::connect_justworks(&engine, args, json, policy).await
        }
        command => {
            let engine = ctx::open_engine(&db, ctx::clock(cli.today), &account).await?;
            let policy =
                ctx::source_policy(&db, engine.store().as_ref(), cli.allow_private_source_urls)
                    .await?;
            dispatch(&engine, command, json, policy).await
        }
    }
}

async fn dispatch(
    engine: &Arc<Engine>,
    command: Command,
    json: bool,
    policy: UrlPolicy,
) -> Result<u8> {
    match command {
        Command::SetupSync(a) => connect::setup_sync(engine, a.integration, json, policy).await,
        Command::Mapping(a) => mapping::mapping(engine, a, json).await,
        Command::Settings(a) => mapping::settings(engine, a, json).await,
        Command::Sync(a) => sync::sync(engine, a, json, policy).await,
        Command::Import(a) => csv::import(engine, a, json).await,
        Command::Users(a) => users::users(engine, a, json).await,
        Command::Events(a) => events::events(engine, a, json).await,
        Command::Imports(a) => imports::imports(engine, a, json).await,
        Command::Rollback(a) => imports::rollback(engine, a, json).await,
        Command::Unlock(a) => connect::unlock(engine, a, json).await,
        Command::Upcoming(a) => users::upcoming(engine, a.days, json).await,
        Command::Tick => {
            let o = engine.tick().await?;
            users::print_change(&o, json, "Tick")?;
            Ok(exit::OK)
        }
        Command::Retention(a) => privacy::retention(engine, a, json).await,
        Command::Integrations(a) => connect::integrations(engine, a, json).await,
        Command::Autosync(a) => worker::autosync(engine, a, json).await,
        Command::Notify(a) => worker::notify(engine, a, json).await,
        Command::Demo(_)
        | Command::Sandbox(_)
        | Command::Connect(_)
        | Command::Worker(_)
        | Command::MigrateStore(_)
        | Command::Backup(_)
        | Command::Serve(_)
        | Command::DefaultConfig
        | Command::Openapi
        | Command::Admin(_) => {
            unreachable!("handled in run")
        }
    }
}
