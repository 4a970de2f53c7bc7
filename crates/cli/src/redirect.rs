//! A one-shot local listener for the OAuth redirect of `roster connect justworks`:
//! the browser lands here after the consent page, with the code or the denial.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::Html;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc, watch};

use roster_justworks::AuthError;

fn page(title: &str, text: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Roster: {title}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{text}</p></body></html>"
    ))
}

/// Serve `listener` until the consent page redirects to it, and return the
/// authorization code. Checks `state`; `error=access_denied` (Deny) becomes
/// [`AuthError::AccessDenied`]. Requests without `code` or `error` (a favicon, a
/// stray visit) are answered and ignored. The browser is told it can close the
/// window.
pub async fn receive_redirect(
    listener: TcpListener,
    expected_state: &str,
) -> Result<String, AuthError> {
    let (tx, mut rx) = mpsc::channel::<Result<String, AuthError>>(1);
    let tx = Arc::new(Mutex::new(Some(tx)));
    let expected = Arc::new(expected_state.to_owned());
    let app = Router::new().fallback(move |RawQuery(query): RawQuery| {
        let tx = Arc::clone(&tx);
        let expected = Arc::clone(&expected);
        async move {
            let mut code = None;
            let mut state = None;
            let mut error = None;
            for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
                match &*key {
                    "code" => code = Some(value.into_owned()),
                    "state" => state = Some(value.into_owned()),
                    "error" => error = Some(value.into_owned()),
                    _ => {}
                }
            }
            let (result, status, body) = match (code, error) {
                (None, None) => {
                    return (StatusCode::NOT_FOUND, page("Waiting", "Waiting for Justworks to send you back here."));
                }
                _ if state.as_deref() != Some(expected.as_str()) => (
                    Err(AuthError::StateMismatch),
                    StatusCode::BAD_REQUEST,
                    page("Not connected", "This answer does not belong to the connection Roster started. Start again from Roster."),
                ),
                (_, Some(error)) if error == "access_denied" => (
                    Err(AuthError::AccessDenied),
                    StatusCode::OK,
                    page("Not connected", "Access was denied. You can close this window."),
                ),
                (_, Some(error)) => {
                    let shown = html_text(&error);
                    (
                        Err(AuthError::Redirect(error)),
                        StatusCode::OK,
                        page("Not connected", &format!("Justworks answered: {shown}. You can close this window.")),
                    )
                }
                (Some(code), None) => (
                    Ok(code),
                    StatusCode::OK,
                    page("Connected", "Roster is connected to Justworks. You can close this window."),
                ),
            };
            if let Some(tx) = tx.lock().await.take() {
                let _ = tx.send(result).await;
            }
            (status, body)
        }
    });
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    let result = rx.recv().await;
    let _ = stop_tx.send(true);
    // Let the page reach the browser; a kept-alive connection must not hold us.
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    match result {
        Some(result) => result,
        None => Err(AuthError::Transport("the redirect listener stopped".into())),
    }
}

/// Escape text for HTML.
fn html_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn visit(addr: std::net::SocketAddr, path_and_query: &str) -> (u16, String) {
        let response = reqwest::get(format!("http://{addr}{path_and_query}"))
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    #[tokio::test]
    async fn receives_the_code_and_checks_state() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let waiting = tokio::spawn(receive_redirect(listener, "s1"));
        let (status, _) = visit(addr, "/favicon.ico").await;
        assert_eq!(status, 404);
        let (status, body) = visit(addr, "/callback?code=abc&state=s1").await;
        assert_eq!(status, 200);
        assert!(body.contains("close this window"));
        assert_eq!(waiting.await.unwrap().unwrap(), "abc");
    }

    #[tokio::test]
    async fn denial_and_wrong_state() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let waiting = tokio::spawn(receive_redirect(listener, "s1"));
        visit(addr, "/callback?error=access_denied&state=s1").await;
        assert!(matches!(
            waiting.await.unwrap(),
            Err(AuthError::AccessDenied)
        ));

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let waiting = tokio::spawn(receive_redirect(listener, "s1"));
        let (status, _) = visit(addr, "/callback?code=abc&state=evil").await;
        assert_eq!(status, 400);
        assert!(matches!(
            waiting.await.unwrap(),
            Err(AuthError::StateMismatch)
        ));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            html_text("<a href='x'>&"),
            "&lt;a href=&#39;x&#39;&gt;&amp;"
        );
    }
}
