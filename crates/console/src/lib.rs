//! The operator console: a small single-page app (plain HTML, CSS and JavaScript, no build
//! step) compiled into the binary and served at `/console` on the API's own port. It signs in
//! with an API key kept in the browser session only, and does everything through the same
//! `/v1` API scripts use — the server decides what is allowed, the console only leaves out
//! what the key's role may not do. Nothing is fetched from anywhere else: the
//! Content-Security-Policy allows this origin only.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 3] = [
    Asset {
        path: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../assets/index.html"),
    },
    Asset {
        path: "console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/console.js"),
    },
    Asset {
        path: "console.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../assets/console.css"),
    },
];

/// Same origin only: no CDN, no inline script, no third party.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's routes, to merge into the API router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/console", get(|| async { serve("index.html") }))
        .route("/console/", get(|| async { Redirect::permanent("/console") }))
        .route(
            "/console/{file}",
            get(|axum::extract::Path(file): axum::extract::Path<String>| async move {
                serve(&file)
            }),
        )
}

fn serve(path: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return (StatusCode::NOT_FOUND, "no such console file").into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The files change with the binary: always revalidate.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_loads_is_embedded_and_nothing_is_external() {
        let index = ASSETS[0].body;
        for asset in &ASSETS[1..] {
            assert!(
                index.contains(&format!("/console/{}", asset.path)),
                "{} is loaded by index.html",
                asset.path
            );
        }
        for asset in &ASSETS {
            // SVG's namespace is a name, not an address that is fetched.
            let body = asset.body.replace("http://www.w3.org/2000/svg", "");
            for external in ["http://", "https://", "//cdn"] {
                assert!(
                    !body.contains(external),
                    "{} refers to {external}",
                    asset.path
                );
            }
        }
    }

    #[test]
    fn an_unknown_file_is_not_found() {
        assert_eq!(serve("../Cargo.toml").status(), StatusCode::NOT_FOUND);
        assert_eq!(serve("index.html").status(), StatusCode::OK);
    }
}
