//! A sync through the API and the apply of its review, as most server tests run them.

use reqwest::Method;
use serde_json::{Value, json};

use super::TestServer;

impl TestServer {
    /// `POST /api/v1/integrations/{integration}/syncs`, which must answer 201: the review.
    pub async fn sync(&self, token: &str, integration: i64) -> Value {
        let path = format!("/api/v1/integrations/{integration}/syncs");
        self.send(Method::POST, &path, token, json!({}), 201).await
    }

    /// `POST /api/v1/reviews/{review}/apply` with `body`, which must answer `want`.
    pub async fn apply(&self, token: &str, review: i64, body: Value, want: u16) -> Value {
        let path = format!("/api/v1/reviews/{review}/apply");
        self.send(Method::POST, &path, token, body, want).await
    }
}
