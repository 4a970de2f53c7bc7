//! The managers of an incremental fetch looked up in what Roster knows while the
//! pages are still read (issue #15): each page's manager ids go to a task that asks
//! [`KnownMembers`] about them, so the look-ups run beside the page requests
//! instead of after the last page (in a 100k directory the ≈ 950 managers of 1,000
//! changed members took 14 ms after the last page; with them beside the pages the
//! fetch step is 1.5–3 ms shorter at 100k and 9 ms at 1M, the two cores being shared
//! with the pages' mapping and the sandbox; docs/benchmarks.md, issue #15, session 20).
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

/// The page side of the look-up: hands on each manager id once to the task asking
/// the directory, and holds that task.
#[derive(Debug)]
pub(crate) struct Asker {
    ids: mpsc::UnboundedSender<Vec<String>>,
    asked: HashSet<String>,
    task: JoinHandle<Result<Found, SourceError>>,
}

impl Asker {
    /// Start the look-up task on `known`, fed by [`Asker::ask`] until
    /// [`Asker::finish`].
    pub(crate) fn start(known: Arc<dyn KnownMembers>) -> Asker {
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
        Asker {
            ids,
            asked: HashSet::new(),
            task,
        }
    }

    /// Ask about these manager ids (each not asked yet, once: a page names a
    /// manager of several reports as often).
    pub(crate) fn ask<'a>(&mut self, ids: impl Iterator<Item = &'a String>) {
        let mut new = Vec::new();
        for id in ids {
            if !self.asked.contains(id) {
                self.asked.insert(id.clone());
                new.push(id.clone());
            }
        }
        if new.is_empty() {
            return;
        }
        // The task ends early only on an error, which `finish` returns.
        let _ = self.ids.send(new);
    }

    /// Stop feeding the task and wait for what it found: the ids asked, and the
    /// answers.
    pub(crate) async fn finish(self) -> Result<(HashSet<String>, Found), SourceError> {
        drop(self.ids);
        let found = self
            .task
            .await
            .map_err(|e| SourceError::Other(format!("looking up known managers failed: {e}")))??;
        Ok((self.asked, found))
    }
}

/// The work emails Roster knows of `missing` (managers outside the fetched members):
/// what the look-up beside the pages found ([`Asker::finish`]), and the directory
/// asked about the ids it was not told of.
pub(crate) async fn known_emails(
    known: &dyn KnownMembers,
    missing: &[String],
    looked_up: Option<(HashSet<String>, Found)>,
) -> Result<Found, SourceError> {
    let (asked, mut found) = looked_up.unwrap_or_default();
    let mut rest: Vec<String> = missing
        .iter()
        .filter(|id| !asked.contains(*id))
        .cloned()
        .collect();
    if !rest.is_empty() {
        rest.sort_unstable();
        found.extend(known.work_emails(&rest).await?);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The directory, from a map, recording what it was asked.
    struct Directory(HashMap<String, String>, std::sync::Mutex<Vec<Vec<String>>>);

    #[async_trait::async_trait]
    impl KnownMembers for Directory {
        async fn work_emails(&self, ids: &[String]) -> Result<Found, SourceError> {
            self.1.lock().unwrap().push(ids.to_vec());
            Ok(ids
                .iter()
                .filter_map(|id| Some((id.clone(), Some(self.0.get(id)?.clone()))))
                .collect())
        }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn what_the_pages_asked_stands_and_the_rest_is_asked_after() {
        let directory = Arc::new(Directory(
            [
                ("m1", "one@x.example"),
                ("m2", "two@x.example"),
                ("m3", "three@x.example"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            Default::default(),
        ));
        // The pages named m1, m9 (unknown) and m2; a member repeated on a later page
        // named m3 instead, which the pages' look-up was never told of.
        let mut asker = Asker::start(directory.clone());
        asker.ask(ids(&["m1", "m9", "m1"]).iter());
        asker.ask(ids(&["m2", "m1", "m2"]).iter());
        let looked_up = asker.finish().await.unwrap();
        assert_eq!(looked_up.0, ids(&["m1", "m2", "m9"]).into_iter().collect());
        let found = known_emails(
            directory.as_ref(),
            &ids(&["m2", "m3", "m9"]),
            Some(looked_up),
        )
        .await
        .unwrap();
        assert_eq!(found.get("m2"), Some(&Some("two@x.example".into())));
        assert_eq!(found.get("m3"), Some(&Some("three@x.example".into())));
        assert!(!found.contains_key("m9"), "unknown: left for the source");
        let asked = directory.1.lock().unwrap().clone();
        assert_eq!(
            asked.last(),
            Some(&ids(&["m3"])),
            "only m3 asked after the pages"
        );
        assert_eq!(
            asked.iter().flatten().filter(|i| *i == "m1").count(),
            1,
            "m1 asked once"
        );
    }

    #[tokio::test]
    async fn a_failed_look_up_fails_the_fetch() {
        struct Broken;
        #[async_trait::async_trait]
        impl KnownMembers for Broken {
            async fn work_emails(&self, _: &[String]) -> Result<Found, SourceError> {
                Err(SourceError::Other("the directory is gone".into()))
            }
        }
        let mut asker = Asker::start(Arc::new(Broken));
        asker.ask(ids(&["m1"]).iter());
        asker.ask(ids(&["m2"]).iter());
        let err = asker.finish().await.unwrap_err();
        assert!(err.to_string().contains("the directory is gone"), "{err}");
    }
}
