//! The staff web app's static files (`webapp/`), embedded in the binary:
//! no build step, nothing to deploy beside the hub.

use std::borrow::Cow;

#[derive(rust_embed::RustEmbed)]
#[folder = "webapp/"]
struct Files;

/// A file of the app and its media type; `""` is the app's page.
pub fn file(path: &str) -> Option<(Cow<'static, [u8]>, &'static str)> {
    let path = if path.is_empty() { "index.html" } else { path };
    let found = Files::get(path)?;
    let media = match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "webmanifest" => "application/manifest+json",
        "png" => "image/png",
        _ => "application/octet-stream",
    };
    Some((found.data, media))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shell_is_embedded() {
        let (page, media) = super::file("").unwrap();
        assert!(media.starts_with("text/html"));
        assert!(String::from_utf8_lossy(&page).contains("app.js"));
        assert!(super::file("sw.js").is_some());
        assert!(super::file("nope.js").is_none());
    }
}
