//! The Bot API calls that delivery makes, behind a trait: teloxide's `Bot` is the real one, and
//! the delivery simulation (`tests/delivery_simulation.rs`) plays Telegram itself, with faults,
//! on a paused clock. Answers keep teloxide's error type, so that one reader of errors
//! (`deliver::SendError::from_request`) reads both.

use super::format::{self, Method, Post};
use std::future::Future;
use teloxide::payloads::{
    EditMessageCaptionSetters, EditMessageReplyMarkupSetters, EditMessageTextSetters,
    SendMessageSetters, SendPhotoSetters,
};
use teloxide::prelude::Requester;
use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, Message,
    MessageId, ParseMode, Recipient,
};
use teloxide::{ApiError, Bot, RequestError};

/// What Telegram answered to an accepted message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub message_id: i32,
    /// The chat's numeric id (a post to `@name` learns it).
    pub chat_id: i64,
}

/// The calls of a channel's worker. `plain` sends the text without `parse_mode` (the fallback
/// when Telegram cannot parse our HTML); `silent` sets `disable_notification`.
pub trait TelegramApi: Send + Sync + 'static {
    /// sendPhoto (the post's method and picture say which) or sendMessage, with the post's
    /// keyboard.
    fn send_post(
        &self,
        chat: Recipient,
        post: &Post,
        plain: bool,
        silent: bool,
    ) -> impl Future<Output = Result<Accepted, RequestError>> + Send;

    /// sendMessage of a digest part: no preview, these button rows of (label, URL).
    fn send_digest(
        &self,
        chat: Recipient,
        text: String,
        rows: &[Vec<(String, String)>],
        plain: bool,
        silent: bool,
    ) -> impl Future<Output = Result<Accepted, RequestError>> + Send;

    /// editMessageCaption (a photo post) or editMessageText, with the post's keyboard.
    fn edit_post(
        &self,
        chat: Recipient,
        message_id: i32,
        post: &Post,
        plain: bool,
    ) -> impl Future<Output = Result<(), RequestError>> + Send;

    /// editMessageText of a digest message: no preview, its button rows kept.
    fn edit_digest(
        &self,
        chat: Recipient,
        message_id: i32,
        text: String,
        rows: &[Vec<(String, String)>],
        plain: bool,
    ) -> impl Future<Output = Result<(), RequestError>> + Send;

    /// editMessageReplyMarkup: these button rows of (label, URL); none for a digest's.
    fn set_keyboard(
        &self,
        chat: Recipient,
        message_id: i32,
        rows: &[Vec<(String, String)>],
    ) -> impl Future<Output = Result<(), RequestError>> + Send;

    /// deleteMessage: a message of the bot (a post found to be a second copy).
    fn delete_message(
        &self,
        chat: Recipient,
        message_id: i32,
    ) -> impl Future<Output = Result<(), RequestError>> + Send;

    /// getChat: the numeric id of a chat known by its `@name`.
    fn chat_id(&self, chat: Recipient) -> impl Future<Output = Result<i64, RequestError>> + Send;

    /// sendMessage of a plain text, or of HTML with `parse_mode`, without a keyboard: a message
    /// to an admin (an alert, or the answer to a command; see `admin::Alerts`).
    fn send_text_message(
        &self,
        chat: ChatId,
        text: &str,
        parse_mode: Option<ParseMode>,
    ) -> impl Future<Output = Result<(), RequestError>> + Send;
}

impl TelegramApi for Bot {
    async fn send_post(
        &self,
        chat: Recipient,
        post: &Post,
        plain: bool,
        silent: bool,
    ) -> Result<Accepted, RequestError> {
        let text = if plain {
            format::plain_text(post)
        } else {
            post.html.clone()
        };
        let message = match (post.method, &post.photo) {
            (Method::SendPhoto, Some(photo)) => {
                let url = photo
                    .parse()
                    .map_err(|_| RequestError::Api(ApiError::WrongFileIdOrUrl))?;
                let mut req = self
                    .send_photo(chat, InputFile::url(url))
                    .caption(text)
                    .reply_markup(keyboard(post));
                if silent {
                    req = req.disable_notification(true);
                }
                if !plain {
                    req = req.parse_mode(ParseMode::Html);
                }
                req.await?
            }
            _ => {
                let how = How {
                    preview: link_preview(post),
                    buttons: Some(keyboard(post)),
                    plain,
                    silent,
                };
                send_text(self, chat, text, how).await?
            }
        };
        Ok(accepted(&message))
    }

    async fn send_digest(
        &self,
        chat: Recipient,
        text: String,
        rows: &[Vec<(String, String)>],
        plain: bool,
        silent: bool,
    ) -> Result<Accepted, RequestError> {
        let how = How {
            preview: no_preview(),
            buttons: (!rows.is_empty()).then(|| markup(rows)),
            plain,
            silent,
        };
        let message = send_text(self, chat, text, how).await?;
        Ok(accepted(&message))
    }

    async fn edit_post(
        &self,
        chat: Recipient,
        message_id: i32,
        post: &Post,
        plain: bool,
    ) -> Result<(), RequestError> {
        let text = if plain {
            format::plain_text(post)
        } else {
            post.html.clone()
        };
        let message_id = MessageId(message_id);
        if post.method == Method::SendPhoto {
            let mut req = self
                .edit_message_caption(chat, message_id)
                .caption(text)
                .reply_markup(keyboard(post));
            if !plain {
                req = req.parse_mode(ParseMode::Html);
            }
            req.await.map(|_| ())
        } else {
            let mut req = self
                .edit_message_text(chat, message_id, text)
                .link_preview_options(link_preview(post))
                .reply_markup(keyboard(post));
            if !plain {
                req = req.parse_mode(ParseMode::Html);
            }
            req.await.map(|_| ())
        }
    }

    async fn edit_digest(
        &self,
        chat: Recipient,
        message_id: i32,
        text: String,
        rows: &[Vec<(String, String)>],
        plain: bool,
    ) -> Result<(), RequestError> {
        let mut req = self
            .edit_message_text(chat, MessageId(message_id), text)
            .link_preview_options(no_preview());
        // An edit without `reply_markup` takes the buttons away.
        if !rows.is_empty() {
            req = req.reply_markup(markup(rows));
        }
        if !plain {
            req = req.parse_mode(ParseMode::Html);
        }
        req.await.map(|_| ())
    }

    async fn set_keyboard(
        &self,
        chat: Recipient,
        message_id: i32,
        rows: &[Vec<(String, String)>],
    ) -> Result<(), RequestError> {
        let markup = markup(rows);
        self.edit_message_reply_markup(chat, MessageId(message_id))
            .reply_markup(markup)
            .await
            .map(|_| ())
    }

    async fn delete_message(&self, chat: Recipient, message_id: i32) -> Result<(), RequestError> {
        Requester::delete_message(self, chat, MessageId(message_id))
            .await
            .map(drop)
    }

    async fn chat_id(&self, chat: Recipient) -> Result<i64, RequestError> {
        Ok(self.get_chat(chat).await?.id.0)
    }

    async fn send_text_message(
        &self,
        chat: ChatId,
        text: &str,
        parse_mode: Option<ParseMode>,
    ) -> Result<(), RequestError> {
        let mut request = self.send_message(chat, text);
        if let Some(mode) = parse_mode {
            request = request.parse_mode(mode);
        }
        request.await.map(drop)
    }
}

/// How a text message goes out.
struct How {
    preview: LinkPreviewOptions,
    buttons: Option<InlineKeyboardMarkup>,
    /// Without `parse_mode`.
    plain: bool,
    /// `disable_notification`.
    silent: bool,
}

/// sendMessage, the one way posts and digests send text.
async fn send_text(
    bot: &Bot,
    chat: Recipient,
    text: String,
    How {
        preview,
        buttons,
        plain,
        silent,
    }: How,
) -> Result<Message, RequestError> {
    let mut req = bot.send_message(chat, text).link_preview_options(preview);
    if let Some(buttons) = buttons {
        req = req.reply_markup(buttons);
    }
    if silent {
        req = req.disable_notification(true);
    }
    if !plain {
        req = req.parse_mode(ParseMode::Html);
    }
    req.await
}

fn accepted(message: &Message) -> Accepted {
    Accepted {
        message_id: message.id.0,
        chat_id: message.chat.id.0,
    }
}

/// The post's button rows (see `Post::keyboard`) as (label, URL) pairs: what a send in flight
/// keeps to be known again by (`store::SendMark`).
pub fn rows(post: &Post) -> Vec<Vec<(String, String)>> {
    post.keyboard()
        .into_iter()
        .map(|row| {
            row.iter()
                .map(|b| (b.label.clone(), b.url.clone()))
                .collect()
        })
        .collect()
}

/// The post's button rows as Telegram URL buttons.
fn keyboard(post: &Post) -> InlineKeyboardMarkup {
    markup(&rows(post))
}

fn markup(rows: &[Vec<(String, String)>]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.iter().map(|row| {
        row.iter()
            .filter_map(|(label, url)| {
                Some(InlineKeyboardButton::url(label.clone(), url.parse().ok()?))
            })
            .collect::<Vec<_>>()
    }))
}

fn link_preview(post: &Post) -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: post.preview_url.is_none(),
        url: post.preview_url.clone(),
        prefer_small_media: false,
        prefer_large_media: true,
        show_above_text: false,
    }
}

/// A digest lists many links: no preview of any of them.
fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}
