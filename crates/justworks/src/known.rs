//! The managers of an incremental fetch looked up in what Roster knows while the
//! pages are still read (issue #15): each page's manager ids go to a task that asks
//! [`KnownMembers`] about them, so the look-ups run beside the page requests
//! instead of after the last page (in a 100k directory the ≈ 950 managers of 1,000
//! changed members took 14 ms after the last page; with them beside the pages the
//! fetch is 3–5 ms shorter, the two cores being shared with the pages' mapping and
//! the sandbox; docs/benchmarks.md, issue #15, session 20).
//!
//! What it gathers is a cache, not the answer: after the last page the fetch takes
//! the managers outside the fetched members, as before, and asks about any it was
//! not told of here (a member repeated on a later page with another manager). A
//! manager among the fetched members is resolved from them whatever was looked up.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use roster_source::{KnownMembers, SourceError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the known look-up found: each id asked, and the work emails of those known.
pub(crate) type Found = HashMap<String, Option<String>>;

/// The page side of the look-up: hands on each manager id once.
#[derive(Debug)]
pub(crate) struct Asker {
    ids: mpsc::UnboundedSender<Vec<String>>,
    asked: HashSet<String>,
}

impl Asker {
    /// Start the look-up task on `known`; the [`Asker`] feeds it and the handle
    /// returns what it found once the asker is dropped ([`Asker::finish`]).
    pub(crate) fn start(
        known: Arc<dyn KnownMembers>,
    ) -> (Asker, JoinHandle<Result<Found, SourceError>>) {
        let (ids, mut queue) = mpsc::unbounded_channel::<Vec<String>>();
        let task = tokio::spawn(async move {
            let mut found = Found::new();
            while let Some(mut batch) = queue.recv().await {
                // Pages that came while the last look-up ran go in one.
                while let Ok(more) = queue.try_recv() {
                    batch.extend(more);
                }
                batch.sort_unstable();
                found.extend(known.work_emails(&batch).await?);
            }
            Ok(found)
        });
        let asker = Asker {
            ids,
            asked: HashSet::new(),
        };
        (asker, task)
    }

    /// Ask about these manager ids (those not asked yet).
    pub(crate) fn ask<'a>(&mut self, ids: impl Iterator<Item = &'a String>) {
        let new: Vec<String> = ids
            .filter(|id| !self.asked.contains(*id))
            .cloned()
            .collect();
        if new.is_empty() {
            return;
        }
        self.asked.extend(new.iter().cloned());
        // The task ends early only on an error, which `finish` returns.
        let _ = self.ids.send(new);
    }

    /// Stop feeding the task and wait for what it found: the ids asked, and the
    /// answers.
    pub(crate) async fn finish(
        self,
        task: JoinHandle<Result<Found, SourceError>>,
    ) -> Result<(HashSet<String>, Found), SourceError> {
        drop(self.ids);
        let found = task
            .await
            .map_err(|e| SourceError::Other(format!("looking up known managers failed: {e}")))??;
        Ok((self.asked, found))
    }
}
