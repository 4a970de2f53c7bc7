//! The managers of an incremental fetch looked up in what Roster knows while the
//! pages are still read (issue #15): each page's manager ids go to a task that asks
//! [`KnownMembers`] about them, so the look-ups run beside the page requests
//! instead of after the last page (in a 100k directory the ≈ 950 managers of 1,000
//! changed members took 14 ms after the last page; with them beside the pages the
//! fetch step is 1.5–3 ms shorter at 100k and 9 ms at 1M, the two cores being shared
//! with the pages' mapping and the sandbox; docs/benchmarks.md, issue #15, session 20).
//! The ids the directory cannot answer for go on, as they come, to the source
//! ([`Probe`]: one request each), beside the pages too: before, the ≈ 90 of a 100k
//! directory's 1,000 changed members were asked after the last page, ≈ 8 ms of the
//! fetch (session 24).
//!
//! What it gathers is a cache, not the answer: after the last page the fetch takes
//! the managers outside the fetched members, as before, and asks about any it was
//! not told of here (a member repeated on a later page with another manager). A
//! manager among the fetched members is resolved from them whatever was looked up,
//! and what the source answered (or failed to) about one counts only when it is
//! still outside them ([`settle`]): a manager a later page brought costs a request,
//! nothing else.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;
use roster_source::{KnownMembers, SourceError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::mapping::ManagerLookup;

/// What the known look-up found: each id asked, and the work emails of those known.
pub(crate) type Found = HashMap<String, Option<String>>;

/// One manager looked up at the source by id.
pub(crate) type Probe =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<ManagerLookup, SourceError>> + Send + Sync>;

/// What the source answered about each manager it was asked about beside the pages.
pub(crate) type Probed = HashMap<String, Result<ManagerLookup, SourceError>>;

/// What the look-ups beside the pages gathered ([`Asker::finish`]).
#[derive(Debug, Default)]
pub(crate) struct LookedUp {
    /// Every id the directory was asked about.
    pub asked: HashSet<String>,
    /// The work emails the directory knows.
    pub found: Found,
    /// The source's answers about the ids the directory did not know.
    pub probed: Probed,
}

/// The page side of the look-up: hands on each manager id once to the task asking
/// the directory, and holds that task (and the one asking the source).
#[derive(Debug)]
pub(crate) struct Asker {
    ids: mpsc::UnboundedSender<Vec<String>>,
    asked: HashSet<String>,
    task: Option<JoinHandle<Result<Found, SourceError>>>,
    probes: Option<JoinHandle<Probed>>,
}

impl Asker {
    /// Start the look-up task on `known`, fed by [`Asker::ask`] until
    /// [`Asker::finish`]; the ids it does not know go to `probe` (at most
    /// `concurrency` at a time) when one is given.
    pub(crate) fn start(known: Arc<dyn KnownMembers>, probe: Option<(Probe, usize)>) -> Asker {
        let (ids, mut queue) = mpsc::unbounded_channel::<Vec<String>>();
        let (unknown, probes) = match probe {
            Some((probe, concurrency)) => {
                let (unknown, ids) = mpsc::unbounded_channel::<Vec<String>>();
                (
                    Some(unknown),
                    Some(tokio::spawn(probing(ids, probe, concurrency))),
                )
            }
            None => (None, None),
        };
        let task = tokio::spawn(async move {
            let mut found = Found::new();
            while let Some(mut batch) = queue.recv().await {
                // Pages that came while the last look-up ran go in one.
                while let Ok(more) = queue.try_recv() {
                    batch.extend(more);
                }
                batch.sort_unstable();
                let known_now = known.work_emails(&batch).await?;
                if let Some(unknown) = &unknown {
                    batch.retain(|id| !known_now.contains_key(id));
                    if !batch.is_empty() {
                        // Ends early only when dropped (`Asker` dropped unfinished).
                        let _ = unknown.send(batch);
                    }
                }
                found.extend(known_now);
            }
            Ok(found)
        });
        Asker {
            ids,
            asked: HashSet::new(),
            task: Some(task),
            probes,
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

    /// Stop feeding the tasks and wait for what they found.
    pub(crate) async fn finish(mut self) -> Result<LookedUp, SourceError> {
        let failed = |e| SourceError::Other(format!("looking up known managers failed: {e}"));
        // The task ends when the last sender goes: this one, replaced by a closed one.
        self.ids = mpsc::unbounded_channel().0;
        let found = match self.task.take() {
            Some(task) => task.await.map_err(failed)?,
            None => Ok(Found::new()),
        };
        // The source's task ends after the directory's (its only sender).
        let probed = match self.probes.take() {
            Some(probes) => probes.await.map_err(failed)?,
            None => Probed::new(),
        };
        Ok(LookedUp {
            asked: std::mem::take(&mut self.asked),
            found: found?,
            probed,
        })
    }
}

impl Drop for Asker {
    /// A fetch that failed (or was dropped) asks nothing more.
    fn drop(&mut self) {
        for task in self.task.iter() {
            task.abort();
        }
        for task in self.probes.iter() {
            task.abort();
        }
    }
}

/// Ask the source about each id of the batches `ids` sends, until it closes.
async fn probing(
    mut ids: mpsc::UnboundedReceiver<Vec<String>>,
    probe: Probe,
    concurrency: usize,
) -> Probed {
    let ids = futures::stream::poll_fn(move |cx| ids.poll_recv(cx)).flat_map(futures::stream::iter);
    ask_source(ids, &probe, concurrency).await
}

/// Ask the source about each id `ids` yields, `concurrency` at a time; every answer
/// kept, errors too ([`settle`] decides what they mean).
pub(crate) async fn ask_source(
    ids: impl futures::Stream<Item = String>,
    probe: &Probe,
    concurrency: usize,
) -> Probed {
    ids.map(|id| {
        let asked = probe(id.clone());
        async move { (id, asked.await) }
    })
    .buffer_unordered(concurrency.max(1))
    .collect()
    .await
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

/// The managers outside the fetched members that neither Roster nor the pages' look-ups
/// answered for (`missing`, sorted) against what the source said beside the pages:
/// those it answered, and the ids left to ask it. Its failure for one of them fails
/// the fetch (the first in id order), as asking it now would have; what it said
/// about the others is dropped.
pub(crate) fn settle(
    missing: Vec<String>,
    mut probed: Probed,
) -> Result<(HashMap<String, ManagerLookup>, Vec<String>), SourceError> {
    let mut answered = HashMap::new();
    let mut rest = Vec::new();
    for id in missing {
        match probed.remove(&id) {
            Some(answer) => {
                answered.insert(id, answer?);
            }
            None => rest.push(id),
        }
    }
    Ok((answered, rest))
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
        let mut asker = Asker::start(directory.clone(), None);
        asker.ask(ids(&["m1", "m9", "m1"]).iter());
        asker.ask(ids(&["m2", "m1", "m2"]).iter());
        let looked_up = asker.finish().await.unwrap();
        assert_eq!(
            looked_up.asked,
            ids(&["m1", "m2", "m9"]).into_iter().collect()
        );
        assert!(looked_up.probed.is_empty(), "no source to ask");
        let found = known_emails(
            directory.as_ref(),
            &ids(&["m2", "m3", "m9"]),
            Some((looked_up.asked, looked_up.found)),
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
        let mut asker = Asker::start(Arc::new(Broken), None);
        asker.ask(ids(&["m1"]).iter());
        asker.ask(ids(&["m2"]).iter());
        let err = asker.finish().await.unwrap_err();
        assert!(err.to_string().contains("the directory is gone"), "{err}");
    }

    /// A source that answers each id from a map (absent: `Missing`; "fail…": an
    /// error), telling `asked` of each id as it is asked.
    fn source(emails: &[(&str, &str)], asked: mpsc::UnboundedSender<String>) -> Probe {
        let emails: HashMap<String, String> = emails
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Arc::new(move |id: String| {
            let _ = asked.send(id.clone());
            let answer = if id.starts_with("fail") {
                Err(SourceError::Other(format!("the source failed on {id}")))
            } else {
                Ok(match emails.get(&id) {
                    Some(e) => ManagerLookup::Found {
                        work_email: Some(e.clone()),
                    },
                    None => ManagerLookup::Missing,
                })
            };
            Box::pin(async move { answer })
        })
    }

    #[tokio::test]
    async fn the_source_is_asked_about_the_unknown_while_pages_go_on() {
        let directory = Arc::new(Directory(
            [("m1".to_owned(), "one@x.example".to_owned())].into(),
            Default::default(),
        ));
        let (tell, mut told) = mpsc::unbounded_channel();
        let probe = source(&[("m9", "nine@x.example")], tell);
        let mut asker = Asker::start(directory.clone(), Some((probe, 4)));
        asker.ask(ids(&["m1", "m9"]).iter());
        // Asked before the last page (no `finish` yet); m1 the directory knows.
        let first = tokio::time::timeout(std::time::Duration::from_secs(10), told.recv())
            .await
            .expect("the source asked while the pages go on");
        assert_eq!(first.as_deref(), Some("m9"));
        asker.ask(ids(&["m9", "m8", "fail7"]).iter());
        let looked_up = asker.finish().await.unwrap();
        let mut probed: Vec<&String> = looked_up.probed.keys().collect();
        probed.sort_unstable();
        assert_eq!(probed, ["fail7", "m8", "m9"], "each unknown id once");
        assert!(told.try_recv().is_ok() && told.try_recv().is_ok());
        assert!(told.try_recv().is_err(), "no id asked twice");
        assert_eq!(
            looked_up.found.get("m1"),
            Some(&Some("one@x.example".into()))
        );

        // What stays outside the fetched members settles on the answers: m9 answered,
        // m8 missing at the source, m5 never asked (left to ask now); the failure on
        // fail7 does not count, as fail7 came on a later page.
        let (answered, rest) = settle(ids(&["m5", "m8", "m9"]), looked_up.probed).unwrap();
        assert!(matches!(
            &answered["m9"],
            ManagerLookup::Found { work_email: Some(e) } if e == "nine@x.example"
        ));
        assert!(matches!(answered["m8"], ManagerLookup::Missing));
        assert_eq!(rest, ids(&["m5"]));
    }

    #[tokio::test]
    async fn a_source_failure_counts_for_a_manager_still_outside() {
        let directory = Arc::new(Directory(HashMap::new(), Default::default()));
        let (tell, _told) = mpsc::unbounded_channel();
        let mut asker = Asker::start(directory, Some((source(&[], tell), 2)));
        asker.ask(ids(&["fail1", "m2"]).iter());
        let looked_up = asker.finish().await.unwrap();
        let err = settle(ids(&["fail1", "m2"]), looked_up.probed).unwrap_err();
        assert!(
            err.to_string().contains("the source failed on fail1"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_asker_dropped_unfinished_asks_the_source_nothing_more() {
        let directory = Arc::new(Directory(HashMap::new(), Default::default()));
        let (tell, mut told) = mpsc::unbounded_channel();
        // A source that never answers: the probes wait until aborted.
        let slow: Probe = Arc::new(move |id: String| {
            let _ = tell.send(id);
            Box::pin(futures::future::pending())
        });
        let mut asker = Asker::start(directory, Some((slow, 1)));
        asker.ask(ids(&["m1", "m2"]).iter());
        assert_eq!(told.recv().await.as_deref(), Some("m1"));
        drop(asker);
        // The tasks are gone: the probe (and its sender) dropped, m2 never asked.
        assert_eq!(
            tokio::time::timeout(std::time::Duration::from_secs(10), told.recv())
                .await
                .expect("the source's task ends when the asker is dropped"),
            None
        );
    }
}
