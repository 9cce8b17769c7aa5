//! The web UI's files (`services/web/dist`), served at `/`: the brotli or gzip copy the build
//! made next to a file when the browser accepts it, hashed assets (`/assets/*`) cached for good,
//! the page shell never stored (so Back after a sign-out fetches it again), a missing file with
//! an extension a plain 404 (not the page), and every other path the page (the UI's own routes).

use actix_files::NamedFile;
use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use std::path::{Path, PathBuf};

/// Hashed build output: its name changes whenever its content does.
const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Other files (the favicon): kept, but asked about again each time (an unchanged one is a 304).
const CACHE_REVALIDATE: &str = "no-cache";
/// The page shell: never kept, never restored from a cache after the user changed.
const CACHE_NEVER: &str = "no-store";
/// Where Vite puts hashed files.
const HASHED_DIR: &str = "assets/";

/// Where the files are.
#[derive(Clone)]
struct Assets {
    dir: PathBuf,
}

/// Serves `dir` at `/` (registered last: it answers every GET no route before it took).
pub fn configure(cfg: &mut web::ServiceConfig, dir: PathBuf) {
    cfg.app_data(web::Data::new(Assets { dir }))
        .route("/{path:.*}", web::get().to(serve))
        .route("/{path:.*}", web::head().to(serve));
}

/// A request path as a file under the directory: `None` for anything that could leave it
/// (`..`, hidden names, backslashes, empty segments).
fn relative_path(path: &str) -> Option<PathBuf> {
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() {
        return Some(PathBuf::from("index.html"));
    }
    let mut relative = PathBuf::new();
    for segment in trimmed.split('/') {
        if segment.is_empty() || segment.starts_with('.') || segment.contains('\\') || segment.contains('\0') {
            return None;
        }
        relative.push(segment);
    }
    Some(relative)
}

/// The encodings the browser accepts (`Accept-Encoding`, a zero weight meaning "not this").
fn accepts(request: &HttpRequest, encoding: &str) -> bool {
    let Some(header) = request.headers().get(header::ACCEPT_ENCODING).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    header.split(',').any(|entry| {
        let mut parts = entry.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
        name.eq_ignore_ascii_case(encoding) && !refused
    })
}

/// `file`, or its pre-compressed copy when the browser takes it, with the caching it deserves.
async fn send(request: &HttpRequest, file: &Path, cache: &'static str) -> actix_web::Result<HttpResponse> {
    let mime = actix_files::file_extension_to_mime(file.extension().and_then(|e| e.to_str()).unwrap_or_default());
    let mut chosen = (file.to_path_buf(), None);
    for (suffix, encoding, name) in [("br", ContentEncoding::Brotli, "br"), ("gz", ContentEncoding::Gzip, "gzip")] {
        let copy =
            file.with_file_name(format!("{}.{suffix}", file.file_name().and_then(|n| n.to_str()).unwrap_or_default()));
        if accepts(request, name) && tokio::fs::metadata(&copy).await.is_ok_and(|m| m.is_file()) {
            chosen = (copy, Some(encoding));
            break;
        }
    }
    let (path, encoding) = chosen;
    let mut named = NamedFile::open_async(&path).await?.set_content_type(mime).disable_content_disposition();
    if let Some(encoding) = encoding {
        named = named.set_content_encoding(encoding);
    }
    let mut response = named.into_response(request);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(response)
}

async fn serve(request: HttpRequest, assets: web::Data<Assets>) -> actix_web::Result<HttpResponse> {
    let index = assets.dir.join("index.html");
    let Some(relative) = relative_path(request.path()) else {
        return Ok(HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("not found\n"));
    };
    let file = assets.dir.join(&relative);
    if file != index && tokio::fs::metadata(&file).await.is_ok_and(|m| m.is_file()) {
        let hashed = relative.to_str().is_some_and(|r| r.starts_with(HASHED_DIR));
        return send(&request, &file, if hashed { CACHE_IMMUTABLE } else { CACHE_REVALIDATE }).await;
    }
    // A missing file (an old build's script, /favicon.ico) is a 404, not the page.
    if file != index && relative.extension().is_some() {
        return Ok(HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("not found\n"));
    }
    send(&request, &index, CACHE_NEVER).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, test};

    fn dist() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("unwrap: a temporary directory can be made");
        let write = |name: &str, body: &[u8]| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("unwrap: a file in the directory has a parent"))
                .expect("unwrap: the temporary directory is writable");
            std::fs::write(path, body).expect("unwrap: the temporary directory is writable");
        };
        write("index.html", b"<!doctype html><title>page</title>");
        write("index.html.gz", b"gzipped page");
        write("assets/app-1a2b.js", b"console.log('plain')");
        write("assets/app-1a2b.js.br", b"brotli bytes");
        write("assets/app-1a2b.js.gz", b"gzip bytes");
        write("favicon.svg", b"<svg/>");
        dir
    }

    async fn get(dir: &Path, path: &str, accept_encoding: Option<&str>) -> (u16, header::HeaderMap, String) {
        let app = test::init_service(App::new().configure(|cfg| configure(cfg, dir.to_path_buf()))).await;
        let mut request = test::TestRequest::get().uri(path);
        if let Some(accept) = accept_encoding {
            request = request.insert_header((header::ACCEPT_ENCODING, accept));
        }
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = String::from_utf8_lossy(&test::read_body(response).await).into_owned();
        (status, headers, body)
    }

    fn header(headers: &header::HeaderMap, name: header::HeaderName) -> &str {
        headers.get(name).and_then(|h| h.to_str().ok()).unwrap_or_default()
    }

    #[actix_web::test]
    async fn a_hashed_script_comes_compressed_the_best_way_the_browser_takes_and_is_cached_for_good() {
        let dir = dist();
        let (status, headers, body) = get(dir.path(), "/assets/app-1a2b.js", Some("gzip, deflate, br")).await;
        assert_eq!((status, body.as_str()), (200, "brotli bytes"));
        assert_eq!(header(&headers, header::CONTENT_ENCODING), "br");
        assert!(
            header(&headers, header::CONTENT_TYPE).starts_with("text/javascript")
                || header(&headers, header::CONTENT_TYPE).starts_with("application/javascript")
        );
        assert_eq!(header(&headers, header::CACHE_CONTROL), CACHE_IMMUTABLE);
        assert_eq!(header(&headers, header::VARY), "accept-encoding");

        let (_, headers, body) = get(dir.path(), "/assets/app-1a2b.js", Some("gzip, br;q=0")).await;
        assert_eq!((body.as_str(), header(&headers, header::CONTENT_ENCODING)), ("gzip bytes", "gzip"));
        let (_, headers, body) = get(dir.path(), "/assets/app-1a2b.js", None).await;
        assert_eq!((body.as_str(), header(&headers, header::CONTENT_ENCODING)), ("console.log('plain')", ""));
    }

    #[actix_web::test]
    async fn the_page_is_never_stored_and_answers_the_uis_own_routes() {
        let dir = dist();
        for path in ["/", "/orders/42", "/index.html"] {
            let (status, headers, body) = get(dir.path(), path, Some("gzip")).await;
            assert_eq!((status, body.as_str()), (200, "gzipped page"), "{path}");
            assert_eq!(header(&headers, header::CACHE_CONTROL), CACHE_NEVER, "{path}");
            assert!(header(&headers, header::CONTENT_TYPE).starts_with("text/html"), "{path}");
        }
    }

    #[actix_web::test]
    async fn a_missing_file_is_a_404_not_the_page_and_nothing_outside_the_directory_is_served() {
        let dir = dist();
        for path in ["/favicon.ico", "/assets/app-old.js", "/../Cargo.toml", "/assets/../../secret.txt", "/.env"] {
            let (status, headers, _) = get(dir.path(), path, None).await;
            assert_eq!(status, 404, "{path}");
            assert!(!header(&headers, header::CONTENT_TYPE).starts_with("text/html"), "{path}");
        }
        let (status, headers, body) = get(dir.path(), "/favicon.svg", None).await;
        assert_eq!((status, body.as_str()), (200, "<svg/>"));
        assert_eq!(header(&headers, header::CONTENT_TYPE), "image/svg+xml");
        assert_eq!(header(&headers, header::CACHE_CONTROL), CACHE_REVALIDATE);
    }
}
