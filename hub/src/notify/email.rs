//! Sending email over SMTP with lettre (async, STARTTLS/TLS per the URL).

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::templates::Rendered;

/// An SMTP connection pool and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Whether a failed send is worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Retry(String),
    #[error("{0}")]
    Rejected(String),
}

impl Mailer {
    /// `url` in lettre's form: `smtp://host:port` (plain, or STARTTLS when
    /// offered with `?tls=required`), `smtps://host` (TLS).
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("STOREHUB_EMAIL__SMTP_URL `{url}` is not usable: {e}"))?
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("STOREHUB_EMAIL__FROM `{from}` is not an address: {e}"))?;
        Ok(Self { transport, from })
    }

    /// Sends a text + HTML message; `inline` images are referenced from the
    /// HTML as `cid:<id>`.
    pub async fn send(
        &self,
        to: &str,
        rendered: &Rendered,
        inline: &[(String, Vec<u8>)],
    ) -> Result<(), MailError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| MailError::Rejected(format!("recipient `{to}`: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject.clone())
            .multipart(if inline.is_empty() {
                MultiPart::alternative_plain_html(rendered.text.clone(), rendered.html.clone())
            } else {
                let png = ContentType::parse("image/png")
                    .map_err(|e| MailError::Rejected(format!("content type: {e}")))?;
                let mut related =
                    MultiPart::related().singlepart(SinglePart::html(rendered.html.clone()));
                for (id, bytes) in inline {
                    related = related.singlepart(
                        Attachment::new_inline(id.clone()).body(bytes.clone(), png.clone()),
                    );
                }
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(rendered.text.clone()))
                    .multipart(related)
            })
            .map_err(|e| MailError::Rejected(format!("message: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // 5xx answers are permanent; everything else may pass later.
            Err(err) if err.is_permanent() => Err(MailError::Rejected(err.to_string())),
            Err(err) => Err(MailError::Retry(err.to_string())),
        }
    }
}
