//! Message templates (minijinja): the defaults of `defaults.rs`, a retailer's
//! saved versions, validation on save, preview, and rendering.
//!
//! Rendering is strict: a variable or attribute that does not exist is an
//! error, never silently empty. Saving checks the syntax, that only the known
//! variables are used, and renders against sample data.

use minijinja::{Environment, UndefinedBehavior, Value};
use schema::entities::message_template;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::defaults;

/// The top-level variables templates may use.
pub const VARIABLES: &[&str] = &[
    "shopper",
    "reservation",
    "store",
    "links",
    "alert",
    "article",
];
/// Languages with defaults.
pub const LANGUAGES: &[&str] = &["fr", "en"];

/// A template's three parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSource {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a template produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a template was refused: which part, which line, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}, line {line}: {reason}")]
pub struct TemplateError {
    pub part: &'static str,
    pub line: usize,
    pub reason: String,
}

/// The names of every message.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = defaults::all().into_iter().map(|t| t.0).collect();
    names.dedup();
    names
}

pub fn default_source(name: &str, lang: &str) -> Option<TemplateSource> {
    defaults::all()
        .into_iter()
        .find(|t| t.0 == name && t.1 == lang)
        .map(|t| TemplateSource {
            subject: t.2,
            text: t.3,
            html: t.4,
        })
}

/// The template in force: the retailer's if saved, else the default; a
/// language without either falls back to French.
pub async fn current(
    conn: &impl ConnectionTrait,
    name: &str,
    lang: &str,
) -> Result<Option<TemplateSource>, DbErr> {
    for candidate in [lang, "fr"] {
        if let Some(row) = crate::store::by_key(
            message_template::Entity::find_by_id((name.to_string(), candidate.to_string())),
            conn,
        )
        .await?
        {
            return Ok(Some(TemplateSource {
                subject: row.subject,
                text: row.text_body,
                html: row.html_body,
            }));
        }
        if let Some(default) = default_source(name, candidate) {
            return Ok(Some(default));
        }
    }
    Ok(None)
}

pub async fn save(
    conn: &impl ConnectionTrait,
    name: &str,
    lang: &str,
    source: &TemplateSource,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let row = message_template::ActiveModel {
        name: Set(name.to_string()),
        lang: Set(lang.to_string()),
        subject: Set(source.subject.clone()),
        text_body: Set(source.text.clone()),
        html_body: Set(source.html.clone()),
        updated_at: Set(now),
    };
    message_template::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                message_template::Column::Name,
                message_template::Column::Lang,
            ])
            .update_columns([
                message_template::Column::Subject,
                message_template::Column::TextBody,
                message_template::Column::HtmlBody,
                message_template::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

fn part_error(part: &'static str, err: &minijinja::Error) -> TemplateError {
    TemplateError {
        part,
        line: err.line().unwrap_or(1),
        reason: match err.detail() {
            Some(detail) => format!("{}: {detail}", err.kind()),
            None => err.kind().to_string(),
        },
    }
}

fn parts(source: &TemplateSource) -> [(&'static str, &'static str, &str); 3] {
    // The file name picks the escaping: HTML escapes values, text does not.
    [
        ("subject", "subject.txt", source.subject.as_str()),
        ("text", "body.txt", source.text.as_str()),
        ("html", "body.html", source.html.as_str()),
    ]
}

/// Renders all three parts with `context`.
pub fn render(
    source: &TemplateSource,
    context: &serde_json::Value,
) -> Result<Rendered, TemplateError> {
    let env = environment();
    let value = Value::from(minijinja::value::Serde(context));
    let mut out = Vec::with_capacity(3);
    for (part, file, text) in parts(source) {
        let rendered = env
            .render_named_str(file, text, value.clone())
            .map_err(|e| part_error(part, &e))?;
        out.push(rendered);
    }
    let html = out.pop().unwrap_or_default();
    let text = out.pop().unwrap_or_default();
    let subject = out.pop().unwrap_or_default();
    Ok(Rendered {
        subject: subject.trim().to_string(),
        text,
        html,
    })
}

/// Checks a template before saving: syntax, known variables, and a render
/// against sample data.
pub fn validate(source: &TemplateSource, lang: &str) -> Result<Rendered, TemplateError> {
    let env = environment();
    for (part, file, text) in parts(source) {
        let template = env
            .template_from_named_str(file, text)
            .map_err(|e| part_error(part, &e))?;
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !VARIABLES.contains(&v.as_str()))
            .collect();
        unknown.sort();
        if let Some(first) = unknown.first() {
            let line = text
                .lines()
                .position(|l| l.contains(first.as_str()))
                .map(|i| i + 1)
                .unwrap_or(1);
            return Err(TemplateError {
                part,
                line,
                reason: format!(
                    "unknown variable `{}`; templates may use {}",
                    unknown.join("`, `"),
                    VARIABLES.join(", ")
                ),
            });
        }
    }
    if source.subject.trim().is_empty() {
        return Err(TemplateError {
            part: "subject",
            line: 1,
            reason: "the subject is empty".into(),
        });
    }
    render(source, &sample_context(lang))
}

/// Data that looks like a real message, for validation and preview.
pub fn sample_context(lang: &str) -> serde_json::Value {
    serde_json::json!({
        "shopper": {"first_name": "Marie", "last_name": "Curie", "email": "marie@example.fr"},
        "reservation": {
            "number": "K7Q4-MZ2P",
            "state": "set_aside",
            "state_label": crate::domain::reservation::State::SetAside.customer_label(lang),
            "reason": "",
            "lines": [{"sku": "SNEAK-WHT-42", "designation": "Baskets cuir", "variant": "Blanc, 42", "ean": "3760000000062", "quantity": 1}],
            "created_at": "25/11/2026 10:00",
            "validate_by": "26/11/2026 10:00",
            "confirm_by": "25/11/2026 12:00",
            "pickup_by": "28/11/2026 19:00",
            "qr_image": "cid:qr-code",
        },
        "store": {"code": "PAR01", "name": "Paris Rivoli", "address": "120 rue de Rivoli, 75001 Paris", "email": "rivoli@shop.test"},
        "links": {
            "tracking": "https://shop.example/t/0123456789abcdef0123456789abcdef",
            "validation": "https://shop.example/r/validate/0123456789abcdef0123456789abcdef",
            "app": "https://shop.example/app/#/r/K7Q4-MZ2P",
            "set_aside": "https://shop.example/a/eyJyIjoiSzdRNC1NWjJQIn0.c2lnbmF0dXJl",
            "reject": "https://shop.example/a/eyJyIjoiSzdRNC1NWjJQIn0.c2lnbmF0dXJm",
            "slip": "https://shop.example/slip/eyJyIjoiSzdRNC1NWjJQIn0.c2lnbmF0dXJn",
        },
        "alert": {"kind": "reminder", "count": 2},
        "article": {"sku": "SNEAK-WHT-42", "designation": "Baskets cuir", "variant": "Blanc, 42"},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_validates_in_both_languages() {
        for name in names() {
            for lang in LANGUAGES {
                let source =
                    default_source(&name, lang).unwrap_or_else(|| panic!("{name}/{lang} missing"));
                let rendered =
                    validate(&source, lang).unwrap_or_else(|e| panic!("{name}/{lang}: {e}"));
                // Every default shows what it is about: the article, the
                // reservation, or (the terms) at least a non-empty page.
                let about = match name.as_str() {
                    "restock" => "Baskets cuir",
                    "page_terms" => "",
                    _ => "K7Q4-MZ2P",
                };
                assert!(!rendered.html.trim().is_empty(), "{name}/{lang}");
                assert!(
                    rendered.text.contains(about) || rendered.subject.contains(about),
                    "{name}/{lang}"
                );
            }
        }
    }

    #[test]
    fn unknown_variables_and_syntax_errors_are_refused_with_the_line() {
        let mut source = default_source("ready", "en").unwrap();
        source.text = "Hello\n{{ shopper.first_name }}\n{{ coupon.code }}\n".into();
        let err = validate(&source, "en").unwrap_err();
        assert_eq!((err.part, err.line), ("text", 3));
        assert!(err.reason.contains("coupon"));

        source.text = "Hello\n{% if reservation.number %}\nno end".into();
        let err = validate(&source, "en").unwrap_err();
        assert_eq!(err.part, "text");
        assert!(err.line >= 2, "{err}");

        source.text = "{{ reservation.colour }}".into();
        let err = validate(&source, "en").unwrap_err();
        assert!(err.reason.contains("undefined"), "{err}");
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let source = TemplateSource {
            subject: "{{ shopper.first_name }}".into(),
            text: "{{ shopper.first_name }}".into(),
            html: "<p>{{ shopper.first_name }}</p>".into(),
        };
        let mut context = sample_context("en");
        context["shopper"]["first_name"] = "<b>Tom & Jerry</b>".into();
        let rendered = render(&source, &context).unwrap();
        assert_eq!(rendered.text, "<b>Tom & Jerry</b>");
        assert_eq!(
            rendered.html,
            "<p>&lt;b&gt;Tom &amp; Jerry&lt;&#x2f;b&gt;</p>"
        );
    }
}
