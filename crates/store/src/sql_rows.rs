//! The row decoders and select lists the SQL adapters share. The SQL of each adapter
//! is its own (placeholders, locking); what a row of these tables means is written
//! once here, so the two adapters cannot drift apart. Each macro expands, in an
//! adapter's module, to private consts and functions over that adapter's row type;
//! they call the adapter's own `col`, `parse_ts`, `parse_opt_ts` and `from_json`
//! (its codec), which must be in scope where the macro is used.

/// `TOKEN_SELECT`, `USER_SELECT`, `REVIEW_SELECT`, `REVIEW_HEAD_SELECT` and their
/// decoders `token_from_row`, `user_from_row`, `review_from_row` over `$row`.
#[macro_export]
macro_rules! access_row_decoders {
    ($row:ty) => {
        fn role(s: &str, what: &str) -> $crate::Result<$crate::access::Role> {
            $crate::access::Role::parse(s)
                .ok_or_else(|| $crate::StoreError::Corrupt(format!("{what} is not valid")))
        }

        const TOKEN_SELECT: &str = "id, account_id, name, role, created_at, last_used_at";

        fn token_from_row(row: &$row) -> $crate::Result<$crate::access::ApiToken> {
            Ok($crate::access::ApiToken {
                id: col(row, 0, "api_tokens.id")?,
                account_id: col(row, 1, "api_tokens.account_id")?,
                name: col(row, 2, "api_tokens.name")?,
                role: role(col(row, 3, "api_tokens.role")?, "api_tokens.role")?,
                created_at: parse_ts(
                    col(row, 4, "api_tokens.created_at")?,
                    "api_tokens.created_at",
                )?,
                last_used_at: parse_opt_ts(
                    col(row, 5, "api_tokens.last_used_at")?,
                    "api_tokens.last_used_at",
                )?,
            })
        }

        const USER_SELECT: &str = "id, account_id, email, role, created_at";

        fn user_from_row(row: &$row, at: usize) -> $crate::Result<$crate::access::User> {
            Ok($crate::access::User {
                id: col(row, at, "users.id")?,
                account_id: col(row, at + 1, "users.account_id")?,
                email: col(row, at + 2, "users.email")?,
                role: role(col(row, at + 3, "users.role")?, "users.role")?,
                created_at: parse_ts(col(row, at + 4, "users.created_at")?, "users.created_at")?,
            })
        }

        const REVIEW_SELECT: &str = "id, account_id, integration_id, status, created_at, \
            closed_at, import_id, payload, reserved_by, reserved_at";
        /// [`REVIEW_SELECT`] with a `null` payload.
        const REVIEW_HEAD_SELECT: &str = "id, account_id, integration_id, status, created_at, \
            closed_at, import_id, 'null', reserved_by, reserved_at";

        fn review_from_row(row: &$row) -> $crate::Result<$crate::access::StoredReview> {
            let status: &str = col(row, 3, "sync_reviews.status")?;
            Ok($crate::access::StoredReview {
                id: col(row, 0, "sync_reviews.id")?,
                account_id: col(row, 1, "sync_reviews.account_id")?,
                integration_id: col(row, 2, "sync_reviews.integration_id")?,
                status: $crate::access::ReviewStatus::parse(status).ok_or_else(|| {
                    $crate::StoreError::Corrupt("sync_reviews.status is not valid".into())
                })?,
                created_at: parse_ts(
                    col(row, 4, "sync_reviews.created_at")?,
                    "sync_reviews.created_at",
                )?,
                closed_at: parse_opt_ts(
                    col(row, 5, "sync_reviews.closed_at")?,
                    "sync_reviews.closed_at",
                )?,
                import_id: col(row, 6, "sync_reviews.import_id")?,
                payload: from_json(col(row, 7, "sync_reviews.payload")?, "sync_reviews.payload")?,
                reserved_by: col(row, 8, "sync_reviews.reserved_by")?,
                reserved_at: parse_opt_ts(
                    col(row, 9, "sync_reviews.reserved_at")?,
                    "sync_reviews.reserved_at",
                )?,
            })
        }
    };
}

/// `JOB_SELECT`, `CHANNEL_SELECT`, `MESSAGE_SELECT`, `limit`, and the decoders
/// `job_from_row`, `channel_from_row`, `message_from_row` over `$row`.
#[macro_export]
macro_rules! job_row_decoders {
    ($row:ty) => {
        const JOB_SELECT: &str = "id, account_id, integration_id, kind, schedule, enabled, paused, next_run_at, \
             lease_holder, lease_until, runs, last_run_at, last_status, last_import_id, last_error, created_at, updated_at, postponed";

        fn job_from_row(row: &$row) -> $crate::Result<$crate::jobs::Job> {
            let kind: &str = col(row, 3, "jobs.kind")?;
            Ok($crate::jobs::Job {
                id: col(row, 0, "jobs.id")?,
                account_id: col(row, 1, "jobs.account_id")?,
                integration_id: col(row, 2, "jobs.integration_id")?,
                kind: $crate::jobs::JobKind::parse(kind)
                    .ok_or_else(|| $crate::StoreError::Corrupt("jobs.kind is not valid".into()))?,
                schedule: from_json(col(row, 4, "jobs.schedule")?, "jobs.schedule")?,
                enabled: col(row, 5, "jobs.enabled")?,
                paused: col(row, 6, "jobs.paused")?,
                next_run_at: parse_opt_ts(col(row, 7, "jobs.next_run_at")?, "jobs.next_run_at")?,
                lease_holder: col(row, 8, "jobs.lease_holder")?,
                lease_until: parse_opt_ts(col(row, 9, "jobs.lease_until")?, "jobs.lease_until")?,
                runs: col(row, 10, "jobs.runs")?,
                last_run_at: parse_opt_ts(col(row, 11, "jobs.last_run_at")?, "jobs.last_run_at")?,
                last_status: col(row, 12, "jobs.last_status")?,
                last_import_id: col(row, 13, "jobs.last_import_id")?,
                last_error: col(row, 14, "jobs.last_error")?,
                created_at: parse_ts(col(row, 15, "jobs.created_at")?, "jobs.created_at")?,
                updated_at: parse_ts(col(row, 16, "jobs.updated_at")?, "jobs.updated_at")?,
                postponed: col(row, 17, "jobs.postponed")?,
            })
        }

        const CHANNEL_SELECT: &str = "id, account_id, kind, target, secret, events, enabled, created_at";

        fn channel_from_row(row: &$row) -> $crate::Result<$crate::jobs::Channel> {
            let kind: &str = col(row, 2, "notification_channels.kind")?;
            Ok($crate::jobs::Channel {
                id: col(row, 0, "notification_channels.id")?,
                account_id: col(row, 1, "notification_channels.account_id")?,
                kind: $crate::jobs::ChannelKind::parse(kind)
                    .ok_or_else(|| $crate::StoreError::Corrupt("notification_channels.kind is not valid".into()))?,
                target: col(row, 3, "notification_channels.target")?,
                secret: col(row, 4, "notification_channels.secret")?,
                events: from_json(
                    col(row, 5, "notification_channels.events")?,
                    "notification_channels.events",
                )?,
                enabled: col(row, 6, "notification_channels.enabled")?,
                created_at: parse_ts(
                    col(row, 7, "notification_channels.created_at")?,
                    "notification_channels.created_at",
                )?,
            })
        }

        /// `id, import_id, event, payload, created_at, delivered_at` from column `at` on.
        fn message_from_row(row: &$row, at: usize) -> $crate::Result<$crate::OutboxMessage> {
            Ok($crate::OutboxMessage {
                id: col(row, at, "outbox.id")?,
                import_id: col(row, at + 1, "outbox.import_id")?,
                event: col(row, at + 2, "outbox.event")?,
                payload: from_json(col(row, at + 3, "outbox.payload")?, "outbox.payload")?,
                created_at: parse_ts(col(row, at + 4, "outbox.created_at")?, "outbox.created_at")?,
                delivered_at: parse_opt_ts(
                    col(row, at + 5, "outbox.delivered_at")?,
                    "outbox.delivered_at",
                )?,
            })
        }

        const MESSAGE_SELECT: &str = "id, import_id, event, payload, created_at, delivered_at";

        fn limit(n: usize) -> i64 {
            i64::try_from(n).unwrap_or(i64::MAX)
        }

    };
}
