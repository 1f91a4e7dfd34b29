//! A fake Telegram Bot API for herald's tests, strict the way Telegram is.
//!
//! `FakeBotApi::start(FakeOptions::default())` serves `POST|GET /bot{TOKEN}/{method}` on
//! `127.0.0.1:0`. Give `url()` to teloxide's `Bot::set_api_url`. Every request is checked the
//! way the real server would check it, and a little more strictly where being strict costs
//! nothing and catches our bugs:
//!
//! - **schema**: every method and field is checked against the machine-readable Bot API
//!   (`fixtures/bot-api.json` in this crate, a copy of the shared data): required fields present, no unknown field (Telegram
//!   ignores them; for us a typo'd field is a bug), values of the declared types, recursing into
//!   object types (`InlineKeyboardMarkup`, `LinkPreviewOptions`, …);
//! - **HTML**: `parse_mode` HTML is parsed with the rules of the Bot API's "Formatting options";
//! - **limits**: text 1–4096 and captions 0–1024 UTF-16 code units after entity parsing, at most
//!   100 entities, inline keyboard URL buttons;
//! - **rate limits**: 1 message per second and 20 per minute per chat, 30 per second in all
//!   (Telegram's FAQ "My bot is hitting limits"), with 429 `retry_after` answers and a list of
//!   violations a test can assert to be empty;
//! - **faults**: scripted 5xx, delays, kicked bot, chat not found, migration, 429, a message
//!   accepted whose answer never arrives (the connection is really closed), rejected photos, any
//!   other 400, and a server that is down.
//!
//! Accepted messages, edits, violations and every request are recorded for inspection.
//!
//! Sections: public API · schema check · request bodies · HTML parser · limits · rate limiter ·
//! faults · server.

use std::collections::{HashMap, VecDeque};
use std::fmt::Display;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;

// ================================================================================================
// Public API
// ================================================================================================

/// The only bot token the fake accepts; any other gets 401 "Unauthorized", as on Telegram.
pub const TOKEN: &str = "123456:TEST-token";

/// The bot's user id: Telegram's tokens start with the bot's id.
const BOT_ID: i64 = 123456;

/// How the fake behaves; `Default` is Telegram's documented behaviour.
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// Messages (sends and edits) per chat in any one second (Telegram: 1).
    pub per_chat_per_second: u32,
    /// Messages per chat in any one minute (Telegram: 20).
    pub per_chat_per_minute: u32,
    /// Messages over all chats in any one second (Telegram: 30).
    pub global_per_second: u32,
    /// Slack granted to clients when counting windows: a request that arrives this much early is
    /// still allowed. Requests obeying the limits on the client's clock can reach the server a
    /// few milliseconds closer together than they were sent.
    pub rate_tolerance: Duration,
    /// Chats the test describes. `@name` and id of a configured chat are the same chat.
    pub chats: Vec<ChatConfig>,
    /// When true, only `chats` exist; anything else is "chat not found". When false, any
    /// `@name` and any negative id is a channel where the bot is an admin, and any positive id is
    /// a private chat with a user who started the bot.
    pub only_configured_chats: bool,
    /// Longest URL accepted in an inline keyboard button, in bytes.
    pub max_button_url_len: usize,
    /// The id of the first message in each chat (Telegram: a chat with history is far past 1).
    pub first_message_id: i64,
    /// Whether the bot may edit the messages of other posters ([`FakeBotApi::post_as_other`]),
    /// as a channel admin with the right to edit others' posts may. When false, an edit of one
    /// answers "message can't be edited".
    pub bot_edits_others: bool,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            per_chat_per_second: 1,
            per_chat_per_minute: 20,
            global_per_second: 30,
            rate_tolerance: Duration::from_millis(50),
            chats: Vec::new(),
            only_configured_chats: false,
            max_button_url_len: 2048,
            first_message_id: 1,
            bot_edits_others: false,
        }
    }
}

impl FakeOptions {
    /// Limits for tests that are about something else than rate limits: 10/s and 600/min per
    /// chat, 30/s in all (the app under test gets the same, see [`FAST_TELEGRAM`]).
    pub fn fast() -> Self {
        FakeOptions {
            per_chat_per_second: 10,
            per_chat_per_minute: 600,
            global_per_second: 30,
            ..FakeOptions::default()
        }
    }
}

/// The `[telegram]` limits matching [`FakeOptions::fast`], for a config's `[telegram]` section.
pub const FAST_TELEGRAM: &str = "per_chat_per_second = 10\nper_chat_per_minute = 600\n";

/// The kind of a chat, as in the Bot API's `Chat.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatKind {
    Channel,
    Supergroup,
    Private,
}

/// A chat the test sets up.
#[derive(Clone, Debug)]
pub struct ChatConfig {
    pub id: i64,
    /// Without the `@`.
    pub username: Option<String>,
    pub title: String,
    pub kind: ChatKind,
    /// False: sends get 403 "Forbidden: bot is not a member of the channel chat".
    pub bot_is_member: bool,
}

impl ChatConfig {
    /// A channel where the bot is an admin.
    pub fn channel(id: i64, username: &str) -> Self {
        ChatConfig {
            id,
            username: Some(username.trim_start_matches('@').to_owned()),
            title: format!("Channel {username}"),
            kind: ChatKind::Channel,
            bot_is_member: true,
        }
    }
}

/// A failure to script with [`FakeBotApi::inject`].
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this 5xx status and a Telegram-shaped body.
    ServerError(u16),
    /// Handle the request normally (the message is accepted at arrival) but answer this late.
    Delay(Duration),
    /// 403 "Forbidden: bot was kicked from the channel chat" (or the group/user variant).
    Forbidden,
    /// 400 "Bad Request: chat not found".
    ChatNotFound,
    /// 400 with `parameters.migrate_to_chat_id`.
    Migrate(i64),
    /// 429 with `parameters.retry_after`; the chat then stays blocked that long.
    TooManyRequests(u32),
    /// Accept and record the message, then close the connection without any HTTP response.
    /// A request that would be rejected is answered normally.
    AcceptThenDrop,
    /// sendPhoto only: 400 "Bad Request: wrong type of the web page content" (what Telegram says
    /// when the photo URL does not serve an image).
    PhotoRejected,
    /// 400 with this description, e.g. "Bad Request: PHOTO_INVALID_DIMENSIONS" or
    /// "Bad Request: BUTTON_URL_INVALID": a refusal that sending again does not change.
    BadRequest(String),
    /// Handle the request normally (a message is stored), then answer with this 5xx: the
    /// server failed after it had done the work.
    AcceptThenServerError(u16),
}

/// Which calls a [`Fault`] applies to: `Match::any().method("sendMessage").chat("@x").times(2)`.
/// `any()` matches every method (getUpdates too) and chat, once.
#[derive(Clone, Debug)]
pub struct Match {
    method: Option<String>,
    chat: Option<String>,
    times: usize,
    skip: usize,
}

impl Match {
    /// Every call, once.
    pub fn any() -> Self {
        Match {
            method: None,
            chat: None,
            times: 1,
            skip: 0,
        }
    }

    /// Only calls of this method (case-insensitive, `SendMessage` = `sendMessage`).
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_lowercase());
        self
    }

    /// Only calls for this chat (`"@name"` or an id).
    pub fn chat(mut self, chat: impl Display) -> Self {
        self.chat = Some(chat.to_string());
        self
    }

    /// The next `n` matching calls instead of one.
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    /// Only after `n` matching calls went through untouched.
    pub fn after(mut self, n: usize) -> Self {
        self.skip = n;
        self
    }
}

/// A message the fake accepted.
#[derive(Clone, Debug)]
pub struct SentMessage {
    /// Per chat, from 1.
    pub message_id: i64,
    /// `"@name"` (lowercase) for an unconfigured username, else the chat id as text.
    pub chat: String,
    /// Canonical method name, e.g. `sendPhoto`.
    pub method: String,
    /// Text as sent, markup included (current version after edits).
    pub text: Option<String>,
    /// Caption as sent, markup included (current version after edits).
    pub caption: Option<String>,
    /// Text or caption after entity parsing: what the reader sees.
    pub plain: String,
    /// Parsed entities as Bot API `MessageEntity` objects (UTF-16 offsets).
    pub entities: Vec<Value>,
    pub parse_mode: Option<String>,
    /// URL or file id, or `upload:NAME (N bytes)` for an uploaded file.
    pub photo: Option<String>,
    pub reply_markup: Option<Value>,
    pub link_preview_options: Option<Value>,
    pub time: Instant,
    /// Unix time, as in the `Message` returned.
    pub date: i64,
    pub edit_count: u32,
    /// Deleted by `deleteMessage` or [`FakeBotApi::delete_message`] (a channel admin).
    pub deleted: bool,
    /// Posted by someone else than the bot ([`FakeBotApi::post_as_other`]).
    pub from_other: bool,
}

/// One accepted edit.
#[derive(Clone, Debug)]
pub struct EditRecord {
    pub chat: String,
    pub message_id: i64,
    pub method: String,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub reply_markup: Option<Value>,
    pub time: Instant,
}

/// Which of Telegram's limits a client broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    PerChatPerSecond,
    PerChatPerMinute,
    GlobalPerSecond,
    /// A call for a chat before the `retry_after` of an earlier 429 had elapsed.
    DuringRetryAfter,
}

/// A broken rate limit.
#[derive(Clone, Debug)]
pub struct Violation {
    pub chat: String,
    pub method: String,
    pub rule: Rule,
    pub time: Instant,
}

/// Every request the fake saw, accepted or not.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    /// Canonical name when known, else as in the path.
    pub method: String,
    /// The chat key, as in [`SentMessage::chat`].
    pub chat: Option<String>,
    pub status: u16,
    /// `description` of an error answer.
    pub description: Option<String>,
    /// Why, when Telegram's description is terse (e.g. `BUTTON_URL_INVALID`).
    pub note: Option<String>,
    /// The normalised parameters.
    pub params: Value,
    pub multipart: bool,
    /// The connection was closed instead of answering (AcceptThenDrop, or down; then `status`
    /// is 0).
    pub dropped: bool,
    pub time: Instant,
}

/// The running fake. Dropping it stops the server.
pub struct FakeBotApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeBotApi {
    /// Binds 127.0.0.1:0 and serves until dropped.
    pub async fn start(options: FakeOptions) -> FakeBotApi {
        schema(); // fail early, with the path, when bot-api.json is missing
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            options,
            down: Arc::new(AtomicBool::new(false)),
            state: Mutex::new(FakeState::default()),
            updates_changed: Notify::new(),
        });
        let router = axum::Router::new()
            .fallback(serve_request)
            // Bot API: files up to 50 MB may be uploaded.
            .layer(DefaultBodyLimit::max(50 << 20))
            .with_state(shared.clone());
        let listener = FakeListener {
            inner: listener,
            down: shared.down.clone(),
        };
        let server = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<Conn>();
            let _ = axum::serve(listener, service).await;
        });
        FakeBotApi {
            addr,
            shared,
            server,
        }
    }

    /// `http://127.0.0.1:PORT`, for `Bot::set_api_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A teloxide bot with [`TOKEN`] talking to this fake.
    pub fn bot(&self) -> teloxide::Bot {
        teloxide::Bot::new(TOKEN).set_api_url(self.url().parse().expect("url"))
    }

    /// Scripts `fault` for the calls selected by `when`. Faults apply after the schema check,
    /// first injected first.
    pub fn inject(&self, fault: Fault, when: Match) {
        self.shared.lock().faults.push(Armed { fault, when });
    }

    /// While down, every connection is closed without an answer (the client sees a connection
    /// error, as when api.telegram.org is unreachable).
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// Queues an update for getUpdates; assigns `update_id` when missing. Returns the id.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut st = self.shared.lock();
            let id = match update.get("update_id").and_then(Value::as_i64) {
                Some(id) => id,
                None => {
                    let id = st.next_update_id.max(1);
                    update["update_id"] = json!(id);
                    id
                }
            };
            st.next_update_id = st.next_update_id.max(id + 1);
            st.updates.push_back(update);
            id
        };
        self.shared.updates_changed.notify_waiters();
        id
    }

    /// Posts a message as someone else than the bot (an admin of the channel, a user of the
    /// group), with these inline keyboard rows of (label, URL) when any. Returns its id.
    pub fn post_as_other(&self, chat: impl Display, text: &str, rows: &[(&str, &str)]) -> i64 {
        let opts = &self.shared.options;
        let mut st = self.shared.lock();
        let key = st.key_of(opts, &chat.to_string());
        let reply_markup = (!rows.is_empty()).then(|| {
            let row: Vec<Value> = rows
                .iter()
                .map(|(label, url)| json!({ "text": label, "url": url }))
                .collect();
            json!({ "inline_keyboard": [row] })
        });
        let message_id = st.next_message_id(&key, opts);
        st.messages.push(SentMessage {
            message_id,
            chat: key,
            method: "sendMessage".into(),
            text: Some(text.to_owned()),
            caption: None,
            plain: text.to_owned(),
            entities: Vec::new(),
            parse_mode: None,
            photo: None,
            reply_markup,
            link_preview_options: None,
            time: Instant::now(),
            date: unix_now(),
            edit_count: 0,
            deleted: false,
            from_other: true,
        });
        message_id
    }

    /// The chat's `@name` changes: from now on `@name` names no chat ("chat not found"); its
    /// id, and any other name it has, still do.
    pub fn forget_username(&self, name: &str) {
        let name = name.trim_start_matches('@').to_ascii_lowercase();
        self.shared.lock().forgotten_names.push(name);
    }

    /// The `@name` moves to the chat `to` (a channel made anew, the name given to another):
    /// from now on it names that chat.
    pub fn move_username(&self, name: &str, to: i64) {
        let name = name.trim_start_matches('@').to_ascii_lowercase();
        self.shared.lock().moved_names.push((name, to));
    }

    /// Deletes a message the way a channel admin would. False when there was none.
    pub fn delete_message(&self, chat: impl Display, message_id: i64) -> bool {
        let mut st = self.shared.lock();
        let key = st.key_of(&self.shared.options, &chat.to_string());
        st.messages
            .iter_mut()
            .find(|m| m.chat == key && m.message_id == message_id && !m.deleted)
            .map(|m| m.deleted = true)
            .is_some()
    }

    /// Every accepted message, in order.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.shared.lock().messages.clone()
    }

    /// Accepted messages of one chat (`"@name"` or an id).
    pub fn messages_for(&self, chat: impl Display) -> Vec<SentMessage> {
        let st = self.shared.lock();
        let key = st.key_of(&self.shared.options, &chat.to_string());
        st.messages
            .iter()
            .filter(|m| m.chat == key)
            .cloned()
            .collect()
    }

    /// Waits until at least `n` messages were accepted or `timeout` passed; returns them all.
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<SentMessage> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n || Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every accepted edit, in order.
    pub fn edits(&self) -> Vec<EditRecord> {
        self.shared.lock().edits.clone()
    }

    /// Every broken rate limit, in order.
    pub fn violations(&self) -> Vec<Violation> {
        self.shared.lock().violations.clone()
    }

    /// Every request, in the order they were answered.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.clone()
    }

    /// Forgets everything: messages (ids restart at 1), edits, violations, requests, faults,
    /// rate-limit windows and blocks, updates. Options and `down` stay.
    pub fn clear(&self) {
        *self.shared.lock() = FakeState::default();
    }
}

impl Drop for FakeBotApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

// ================================================================================================
// Schema check: the Bot API in machine form
// ================================================================================================

struct Schema {
    /// Keyed by lowercase name: Telegram matches method names case-insensitively.
    methods: HashMap<String, MethodDef>,
    types: HashMap<String, TypeDef>,
}

struct MethodDef {
    name: String,
    fields: Vec<FieldDef>,
    returns: Vec<String>,
}

struct FieldDef {
    name: String,
    types: Vec<String>,
    required: bool,
}

enum TypeDef {
    Object(Vec<FieldDef>),
    /// One of several types (e.g. `BotCommandScope`).
    Union(Vec<String>),
    /// Declared without fields (e.g. `CallbackGame`): any object.
    Opaque,
}

/// A schema violation: `path` locates it, for picking the most specific of several.
struct SchemaError {
    path: String,
    message: String,
}

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let (text, from) = match std::env::var_os("HERALD_BOT_API_JSON") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", PathBuf::from(&path).display()));
                (std::borrow::Cow::Owned(text), PathBuf::from(path))
            }
            None => (
                std::borrow::Cow::Borrowed(BOT_API_JSON),
                PathBuf::from("fixtures/bot-api.json"),
            ),
        };
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("parsing {}: {e}", from.display()));
        Schema::from_json(&doc)
    })
}

/// The Bot API's description, built into the fake (a copy of the shared data folder's
/// `telegram/bot-api.json`): no path to find at run time, however the test binary was built.
/// `HERALD_BOT_API_JSON` names another file to check requests against.
const BOT_API_JSON: &str = include_str!("../fixtures/bot-api.json");

impl Schema {
    fn from_json(doc: &Value) -> Schema {
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let fields = |v: &Value| -> Vec<FieldDef> {
            v.get("fields")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|f| FieldDef {
                            name: f["name"].as_str().unwrap_or_default().to_owned(),
                            types: strings(f.get("types")),
                            required: f["required"].as_bool().unwrap_or(false),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut methods = HashMap::new();
        for (name, m) in doc["methods"].as_object().expect("methods") {
            let def = MethodDef {
                name: name.clone(),
                fields: fields(m),
                returns: strings(m.get("returns")),
            };
            methods.insert(name.to_ascii_lowercase(), def);
        }
        let mut types = HashMap::new();
        for (name, t) in doc["types"].as_object().expect("types") {
            let def = if t.get("fields").is_some() {
                TypeDef::Object(fields(t))
            } else if t.get("subtypes").is_some() {
                TypeDef::Union(strings(t.get("subtypes")))
            } else {
                TypeDef::Opaque
            };
            types.insert(name.clone(), def);
        }
        Schema { methods, types }
    }

    fn method(&self, name: &str) -> Option<&MethodDef> {
        self.methods.get(&name.to_ascii_lowercase())
    }

    /// Checks a whole request; `Err` is the text after "Bad Request: ".
    fn check_params(&self, def: &MethodDef, params: &Params) -> Result<(), String> {
        self.check_object(&params.fields, &def.fields, "", &params.uploads)
            .map_err(|e| e.message)?;
        // A file part must be used by some field, through `attach://name` or its own name.
        for name in params.uploads.keys() {
            let attach = format!("attach://{name}");
            if !mentions(&Value::Object(params.fields.clone()), &attach) {
                return Err(format!(
                    "unknown field {name} (a file part nothing refers to)"
                ));
            }
        }
        Ok(())
    }

    fn check_object(
        &self,
        obj: &Map<String, Value>,
        fields: &[FieldDef],
        path: &str,
        uploads: &HashMap<String, Upload>,
    ) -> Result<(), SchemaError> {
        let join = |name: &str| {
            if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            }
        };
        // Strict where Telegram is lenient: Telegram ignores unknown fields, so a typo there
        // silently loses a setting.
        if let Some(name) = obj.keys().find(|k| !fields.iter().any(|f| &f.name == *k)) {
            let path = join(name);
            return Err(SchemaError {
                message: format!("unknown field {path}"),
                path,
            });
        }
        for field in fields {
            let path = join(&field.name);
            match obj.get(&field.name) {
                None if field.required => {
                    return Err(SchemaError {
                        message: format!("required field {path} is missing"),
                        path,
                    });
                }
                None => {}
                Some(value) => self.check_value(value, &field.types, &path, uploads)?,
            }
        }
        Ok(())
    }

    /// `types` are alternatives ("Integer or String"): any one will do.
    fn check_value(
        &self,
        value: &Value,
        types: &[String],
        path: &str,
        uploads: &HashMap<String, Upload>,
    ) -> Result<(), SchemaError> {
        let mut best: Option<SchemaError> = None;
        for ty in types {
            match self.check_type(value, ty, path, uploads) {
                Ok(()) => return Ok(()),
                // The error that got deepest into the value says best what is wrong.
                Err(e) if best.as_ref().is_none_or(|b| e.path.len() > b.path.len()) => {
                    best = Some(e)
                }
                Err(_) => {}
            }
        }
        match best {
            Some(e) if e.path != path || types.len() == 1 => Err(e),
            _ => Err(SchemaError {
                message: format!(
                    "field {path} must be {}, got {}",
                    types.join(" or "),
                    json_kind(value)
                ),
                path: path.to_owned(),
            }),
        }
    }

    fn check_type(
        &self,
        value: &Value,
        ty: &str,
        path: &str,
        uploads: &HashMap<String, Upload>,
    ) -> Result<(), SchemaError> {
        let wrong = || SchemaError {
            message: format!("field {path} must be {ty}, got {}", json_kind(value)),
            path: path.to_owned(),
        };
        if let Some(item) = ty.strip_prefix("Array of ") {
            let items = value.as_array().ok_or_else(wrong)?;
            for (i, v) in items.iter().enumerate() {
                self.check_type(v, item, &format!("{path}[{i}]"), uploads)?;
            }
            return Ok(());
        }
        let ok = match ty {
            "Integer" => value.is_i64() || value.is_u64(),
            "Float" => value.is_number(),
            "Boolean" => value.is_boolean(),
            "True" => value == &Value::Bool(true),
            "String" => value.is_string(),
            // Bot API "Sending files": a file_id or HTTP URL as a string, or `attach://<name>`
            // naming a multipart part.
            "InputFile" => match value.as_str() {
                Some(s) => match s.strip_prefix("attach://") {
                    Some(name) if !uploads.contains_key(name) => {
                        return Err(SchemaError {
                            message: format!("field {path} refers to a missing file part {name}"),
                            path: path.to_owned(),
                        });
                    }
                    _ => true,
                },
                None => false,
            },
            _ => match self.types.get(ty) {
                Some(TypeDef::Object(fields)) => {
                    let obj = value.as_object().ok_or_else(wrong)?;
                    return self.check_object(obj, fields, path, uploads);
                }
                Some(TypeDef::Union(alternatives)) => {
                    return self.check_value(value, alternatives, path, uploads);
                }
                Some(TypeDef::Opaque) => value.is_object(),
                None => panic!("bot-api.json names an undefined type {ty}"),
            },
        };
        if ok { Ok(()) } else { Err(wrong()) }
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether `needle` occurs as a string anywhere inside `value`.
fn mentions(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(s) => s == needle || s.contains(needle),
        Value::Array(a) => a.iter().any(|v| mentions(v, needle)),
        Value::Object(o) => o.values().any(|v| mentions(v, needle)),
        _ => false,
    }
}

// ================================================================================================
// Request bodies: JSON, urlencoded form, multipart -> one JSON object
// ================================================================================================

/// The parameters of one call, normalised to JSON.
struct Params {
    fields: Map<String, Value>,
    /// File parts by part name.
    uploads: HashMap<String, Upload>,
    multipart: bool,
}

/// A file part of a multipart body.
#[derive(Clone, Debug)]
struct Upload {
    file_name: Option<String>,
    bytes: usize,
}

impl Params {
    fn str(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }
}

async fn read_params(req: Request, def: &MethodDef) -> Result<Params, String> {
    let mut params = Params {
        fields: Map::new(),
        uploads: HashMap::new(),
        multipart: false,
    };
    // Telegram takes parameters from the query string too, with any HTTP method.
    if let Some(query) = req.uri().query() {
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = text_field(def, &k, v.into_owned());
            params.fields.insert(k.into_owned(), value);
        }
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        params.multipart = true;
        let mut multipart = Multipart::from_request(req, &())
            .await
            .map_err(|e| format!("Bad Request: can't parse multipart body: {e}"))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| format!("Bad Request: can't parse multipart body: {e}"))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let bytes = field
                .bytes()
                .await
                .map_err(|e| format!("Bad Request: can't read multipart field {name}: {e}"))?;
            if file_name.is_some() {
                // A file sent in the field itself stands for `attach://<field>`.
                if def.fields.iter().any(|f| f.name == name) {
                    params
                        .fields
                        .insert(name.clone(), Value::String(format!("attach://{name}")));
                }
                params.uploads.insert(
                    name,
                    Upload {
                        file_name,
                        bytes: bytes.len(),
                    },
                );
            } else {
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| format!("Bad Request: field {name} is not UTF-8"))?;
                let value = text_field(def, &name, text);
                params.fields.insert(name, value);
            }
        }
        return Ok(params);
    }
    let body = axum::body::to_bytes(req.into_body(), 50 << 20)
        .await
        .map_err(|e| format!("Bad Request: can't read body: {e}"))?;
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(obj)) => params.fields.extend(obj),
            Ok(_) => return Err("Bad Request: the JSON body must be an object".into()),
            Err(e) => return Err(format!("Bad Request: can't parse JSON body: {e}")),
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(&body) {
            let value = text_field(def, &k, v.into_owned());
            params.fields.insert(k.into_owned(), value);
        }
    } else if !body.is_empty() {
        return Err(format!(
            "Bad Request: unsupported Content-Type {content_type:?}"
        ));
    }
    Ok(params)
}

/// A form field is text. Fields declared as something else than String carry JSON there
/// (Bot API: "a JSON-serialized object"), and numbers and booleans as their JSON text.
fn text_field(def: &MethodDef, name: &str, text: String) -> Value {
    let Some(field) = def.fields.iter().find(|f| f.name == name) else {
        return Value::String(text);
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(parsed) if could_be(&parsed, &field.types) => parsed,
        _ => Value::String(text),
    }
}

/// Whether a parsed form value is of a JSON kind some declared non-String type has.
fn could_be(value: &Value, types: &[String]) -> bool {
    let has = |want: &[&str]| types.iter().any(|t| want.contains(&t.as_str()));
    match value {
        Value::Number(_) => has(&["Integer", "Float"]),
        Value::Bool(_) => has(&["Boolean", "True"]),
        Value::Array(_) => types.iter().any(|t| t.starts_with("Array of ")),
        Value::Object(_) => types.iter().any(|t| {
            !t.starts_with("Array of ")
                && !["Integer", "Float", "Boolean", "True", "String", "InputFile"]
                    .contains(&t.as_str())
        }),
        _ => false,
    }
}

// ================================================================================================
// HTML parser: Bot API "Formatting options", HTML style
// ================================================================================================

/// Text after entity parsing.
#[derive(Clone, Debug, Default, PartialEq)]
struct Formatted {
    text: String,
    /// Bot API `MessageEntity` objects, sorted by offset.
    entities: Vec<Value>,
}

/// Why markup was refused, and where (byte offset in the UTF-8 source, as Telegram reports).
#[derive(Debug)]
struct HtmlError {
    reason: String,
    offset: usize,
}

/// A tag opened and not yet closed.
struct OpenTag {
    name: String,
    /// Byte offset of its `<`.
    byte: usize,
    /// UTF-16 offset of its content.
    start: usize,
    /// The entity it makes; None for `<code>` inside `<pre>`, which only names the language.
    kind: Option<&'static str>,
    attrs: Map<String, Value>,
}

/// Parses `parse_mode=HTML` text. Follows the documented rules: only the listed tags, properly
/// nested and closed; "All <, > and & symbols that are not a part of a tag or an HTML entity must
/// be replaced with the corresponding HTML entities"; named entities only &lt; &gt; &amp; &quot;;
/// numeric entities allowed. A bare `>` is accepted, as Telegram does.
///
/// Stricter than Telegram's server, whose parser (tdlib's `parse_html`) refuses a bare `<` but
/// keeps an undecodable `&…` as literal text and ignores unknown attributes: both are refused
/// here, so that an escaping bug shows in tests instead of as a stray `&nbsp;` in a channel.
fn parse_html(src: &str) -> Result<Formatted, HtmlError> {
    let bytes = src.as_bytes();
    let mut out = String::new();
    let mut utf16 = 0usize;
    let mut stack: Vec<OpenTag> = Vec::new();
    let mut entities: Vec<(usize, usize, Value)> = Vec::new();
    let mut i = 0;
    while i < src.len() {
        match bytes[i] {
            b'<' if bytes.get(i + 1) == Some(&b'/') => {
                let (name, next) = end_tag(src, i)?;
                let Some(open) = stack.pop() else {
                    return Err(err(format!("Unexpected end tag \"</{name}>\""), i));
                };
                if open.name != name {
                    let reason = format!(
                        "Unmatched end tag \"</{name}>\", expected \"</{}>\"",
                        open.name
                    );
                    return Err(err(reason, i));
                }
                if let Some(kind) = open.kind
                    && utf16 > open.start
                {
                    let mut entity = open.attrs;
                    entity.insert("type".into(), json!(kind));
                    entity.insert("offset".into(), json!(open.start));
                    entity.insert("length".into(), json!(utf16 - open.start));
                    entities.push((open.start, utf16 - open.start, Value::Object(entity)));
                }
                i = next;
            }
            b'<' => {
                let (tag, next) = start_tag(src, i, &mut stack, utf16)?;
                stack.push(tag);
                i = next;
            }
            b'&' => {
                let (ch, next) = entity(src, i)?;
                out.push(ch);
                utf16 += ch.len_utf16();
                i = next;
            }
            _ => {
                let ch = src[i..].chars().next().expect("char boundary");
                out.push(ch);
                utf16 += ch.len_utf16();
                i += ch.len_utf8();
            }
        }
    }
    if let Some(open) = stack.last() {
        let reason = format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.name
        );
        return Err(err(reason, open.byte));
    }
    // Telegram lists entities by offset, an enclosing entity before the ones inside it.
    entities.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    Ok(Formatted {
        text: out,
        entities: entities.into_iter().map(|(_, _, e)| e).collect(),
    })
}

fn err(reason: String, offset: usize) -> HtmlError {
    HtmlError { reason, offset }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// `</name>` starting at `at`; returns the lowercase name and the offset after `>`.
fn end_tag(src: &str, at: usize) -> Result<(String, usize), HtmlError> {
    let bytes = src.as_bytes();
    let mut i = at + 2;
    while i < bytes.len() && is_name_byte(bytes[i]) {
        i += 1;
    }
    let name = src[at + 2..i].to_ascii_lowercase();
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if name.is_empty() || bytes.get(i) != Some(&b'>') {
        return Err(err("Unclosed end tag".into(), at));
    }
    Ok((name, i + 1))
}

/// A start tag at `at`, checked against the supported tags, their attributes and the nesting
/// rules; returns it and the offset after `>`.
fn start_tag(
    src: &str,
    at: usize,
    stack: &mut [OpenTag],
    utf16: usize,
) -> Result<(OpenTag, usize), HtmlError> {
    let bytes = src.as_bytes();
    if !bytes.get(at + 1).is_some_and(u8::is_ascii_alphabetic) {
        let reason = "Bare \"<\" must be written as \"&lt;\"".to_owned();
        return Err(err(reason, at));
    }
    let mut i = at + 1;
    while i < bytes.len() && is_name_byte(bytes[i]) {
        i += 1;
    }
    let name = src[at + 1..i].to_ascii_lowercase();
    let kind: Option<&'static str> = match name.as_str() {
        "b" | "strong" => Some("bold"),
        "i" | "em" => Some("italic"),
        "u" | "ins" => Some("underline"),
        "s" | "strike" | "del" => Some("strikethrough"),
        "span" | "tg-spoiler" => Some("spoiler"),
        "a" => Some("text_link"),
        "code" => Some("code"),
        "pre" => Some("pre"),
        "blockquote" => Some("blockquote"),
        "tg-emoji" => Some("custom_emoji"),
        _ => return Err(err(format!("Unsupported start tag \"{name}\""), at)),
    };
    let (attrs, next) = attributes(src, i, at, &name)?;
    let attr = |k: &str| attrs.get(k).map(String::as_str);
    let unsupported = |allowed: &[&str]| {
        attrs
            .keys()
            .find(|k| !allowed.contains(&k.as_str()))
            .map(|k| {
                err(
                    format!("Unsupported attribute \"{k}\" in the tag \"{name}\""),
                    at,
                )
            })
    };
    let mut tag = OpenTag {
        name: name.clone(),
        byte: at,
        start: utf16,
        kind,
        attrs: Map::new(),
    };
    // Formatting options: "pre and code entities can't contain other entities", except the
    // documented `<pre><code class="language-…">` form.
    if let Some(parent) = stack.last()
        && (parent.name == "code" || parent.name == "pre")
        && !(parent.name == "pre" && name == "code")
    {
        let reason = format!("Tag \"{name}\" can't be nested inside \"{}\"", parent.name);
        return Err(err(reason, at));
    }
    match name.as_str() {
        "a" => {
            if let Some(e) = unsupported(&["href"]) {
                return Err(e);
            }
            let Some(href) = attr("href").filter(|h| !h.trim().is_empty()) else {
                return Err(err("Tag \"a\" must have a non-empty \"href\"".into(), at));
            };
            if stack.iter().any(|t| t.name == "a") {
                return Err(err("Links can't be nested".into(), at));
            }
            tag.attrs.insert("url".into(), json!(absolute_href(href)));
        }
        "code" => {
            if let Some(e) = unsupported(&["class"]) {
                return Err(e);
            }
            let in_pre = stack.last().is_some_and(|p| p.name == "pre");
            if let Some(class) = attr("class") {
                let Some(language) = class.strip_prefix("language-") else {
                    let reason = "Tag \"code\" may only have class \"language-…\"".into();
                    return Err(err(reason, at));
                };
                // "Programming language can't be specified for standalone code tags."
                if !in_pre {
                    let reason = "Programming language can't be specified for standalone \
                                  code tags"
                        .into();
                    return Err(err(reason, at));
                }
                if let Some(pre) = stack.last_mut() {
                    pre.attrs.insert("language".into(), json!(language));
                }
            }
            if in_pre {
                tag.kind = None;
            }
        }
        "span" => {
            if let Some(e) = unsupported(&["class"]) {
                return Err(e);
            }
            if attr("class") != Some("tg-spoiler") {
                let reason = "Tag \"span\" must have class \"tg-spoiler\"".into();
                return Err(err(reason, at));
            }
        }
        "blockquote" => {
            if let Some(e) = unsupported(&["expandable"]) {
                return Err(e);
            }
            // "blockquote and expandable_blockquote entities can't be nested".
            if stack.iter().any(|t| t.name == "blockquote") {
                return Err(err("Blockquotes can't be nested".into(), at));
            }
            if attrs.contains_key("expandable") {
                tag.kind = Some("expandable_blockquote");
            }
        }
        "tg-emoji" => {
            if let Some(e) = unsupported(&["emoji-id"]) {
                return Err(e);
            }
            let Some(id) = attr("emoji-id").filter(|id| !id.is_empty()) else {
                return Err(err("Tag \"tg-emoji\" must have \"emoji-id\"".into(), at));
            };
            tag.attrs.insert("custom_emoji_id".into(), json!(id));
        }
        _ => {
            if let Some(e) = unsupported(&[]) {
                return Err(e);
            }
        }
    }
    Ok((tag, next))
}

/// Attributes from `i` up to `>`; values have their entities decoded.
fn attributes(
    src: &str,
    mut i: usize,
    at: usize,
    tag: &str,
) -> Result<(HashMap<String, String>, usize), HtmlError> {
    let bytes = src.as_bytes();
    let mut attrs = HashMap::new();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i) {
            None => return Err(err("Unclosed start tag".into(), at)),
            Some(b'>') => return Ok((attrs, i + 1)),
            Some(b'/') => {
                let reason = format!("Self-closing tag \"{tag}\" is not supported");
                return Err(err(reason, at));
            }
            Some(_) => {}
        }
        let name_start = i;
        while i < bytes.len() && (is_name_byte(bytes[i]) || bytes[i] == b'_' || bytes[i] == b':') {
            i += 1;
        }
        if i == name_start {
            let reason = format!("Unexpected character in the tag \"{tag}\"");
            return Err(err(reason, i));
        }
        let name = src[name_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            attrs.insert(name, String::new());
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let (raw_start, raw_end) = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let Some(len) = src[i + 1..].find(q as char) else {
                    return Err(err("Unclosed attribute value".into(), i));
                };
                let span = (i + 1, i + 1 + len);
                i = span.1 + 1;
                span
            }
            _ => {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                (start, i)
            }
        };
        attrs.insert(name, decode_text(src, raw_start, raw_end)?);
    }
}

/// Decodes the entities of `src[start..end]`; a bare `&` is an error as in text.
fn decode_text(src: &str, start: usize, end: usize) -> Result<String, HtmlError> {
    let mut out = String::new();
    let mut i = start;
    while i < end {
        if src.as_bytes()[i] == b'&' {
            let (ch, next) = entity(&src[..end], i)?;
            out.push(ch);
            i = next;
        } else {
            let ch = src[i..].chars().next().expect("char boundary");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    Ok(out)
}

/// An HTML entity at `at` (which holds `&`); returns the character and the offset after `;`.
fn entity(src: &str, at: usize) -> Result<(char, usize), HtmlError> {
    let rest = &src[at + 1..];
    let body_len = rest.bytes().take(32).position(|b| b == b';').filter(|&n| {
        n > 0
            && rest[..n]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'#')
    });
    let Some(len) = body_len else {
        return Err(err("Bare \"&\" must be written as \"&amp;\"".into(), at));
    };
    let body = &rest[..len];
    let ch = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse::<u32>().ok(),
        };
        code.filter(|&c| c != 0).and_then(char::from_u32)
    } else {
        match body {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            _ => {
                // "The API currently supports only the following named HTML entities: &lt;,
                // &gt;, &amp; and &quot;."
                let reason = format!("Unsupported HTML entity \"&{body};\"");
                return Err(err(reason, at));
            }
        }
    };
    match ch {
        Some(ch) => Ok((ch, at + 1 + len + 1)),
        None => Err(err(format!("Invalid numeric entity \"&{body};\""), at)),
    }
}

/// Telegram turns `href="example.org"` into `http://example.org`; the Message we return must
/// carry a URL teloxide can parse.
fn absolute_href(href: &str) -> String {
    if href.contains("://") || href.starts_with("tg:") || href.starts_with("mailto:") {
        href.to_owned()
    } else {
        format!("http://{href}")
    }
}

// ================================================================================================
// Limits: lengths in UTF-16 code units, entities, keyboards, photos
// ================================================================================================

/// Bot API: text "1-4096 characters after entities parsing".
const MAX_TEXT: usize = 4096;
/// Bot API: caption "0-1024 characters after entities parsing".
const MAX_CAPTION: usize = 1024;
/// Telegram keeps at most 100 entities per message.
const MAX_ENTITIES: usize = 100;

/// Telegram counts "characters" as UTF-16 code units (an emoji outside the BMP is 2).
fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Text or caption after parsing per `parse_mode`, or the Bot API error description.
fn format_text(text: &str, params: &Params, entities_field: &str) -> Result<Formatted, String> {
    let formatted = match params.str("parse_mode") {
        None => Formatted {
            text: text.to_owned(),
            entities: params
                .fields
                .get(entities_field)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        },
        Some(mode) if mode.eq_ignore_ascii_case("html") => parse_html(text).map_err(|e| {
            format!(
                "Bad Request: can't parse entities: {} at byte offset {}",
                e.reason, e.offset
            )
        })?,
        Some(mode) if mode.to_ascii_lowercase().starts_with("markdown") => {
            return Err(format!(
                "Bad Request: parse_mode {mode} is not supported by the fake Bot API (herald \
                 sends HTML)"
            ));
        }
        Some(mode) => return Err(format!("Bad Request: unsupported parse_mode \"{mode}\"")),
    };
    if formatted.entities.len() > MAX_ENTITIES {
        return Err(format!(
            "Bad Request: too many message entities: {} (at most {MAX_ENTITIES})",
            formatted.entities.len()
        ));
    }
    Ok(formatted)
}

/// Message text: not empty once trimmed (Telegram trims whitespace), at most 4096 units.
fn check_text(f: &Formatted) -> Result<(), String> {
    if f.text.trim().is_empty() {
        return Err("Bad Request: message text is empty".into());
    }
    if utf16_len(&f.text) > MAX_TEXT {
        return Err("Bad Request: message is too long".into());
    }
    Ok(())
}

fn check_caption(f: &Formatted) -> Result<(), String> {
    if utf16_len(&f.text) > MAX_CAPTION {
        return Err("Bad Request: message caption is too long".into());
    }
    Ok(())
}

/// Inline keyboards (InlineKeyboardButton: "Exactly one of the optional fields must be used to
/// specify type of the button"; `url`: "HTTP or tg:// URL"). Returns (description, note).
fn check_reply_markup(markup: &Value, max_url: usize) -> Result<(), (String, String)> {
    const NOT_ACTIONS: [&str; 3] = ["text", "icon_custom_emoji_id", "style"];
    let Some(rows) = markup.get("inline_keyboard").and_then(Value::as_array) else {
        return Ok(());
    };
    for (r, row) in rows.iter().enumerate() {
        for (c, button) in row.as_array().into_iter().flatten().enumerate() {
            let at = format!("button [{r}][{c}]");
            let text = button["text"].as_str().unwrap_or_default();
            if text.trim().is_empty() {
                return Err((
                    "Bad Request: can't parse inline keyboard button: text must be non-empty"
                        .into(),
                    format!("{at} has no text"),
                ));
            }
            let obj = button.as_object().expect("checked by the schema");
            let actions: Vec<&str> = obj
                .keys()
                .map(String::as_str)
                .filter(|k| !NOT_ACTIONS.contains(k))
                .collect();
            match actions.len() {
                0 => {
                    return Err((
                        "Bad Request: can't parse inline keyboard button: Text buttons are \
                         unallowed in the inline keyboard"
                            .into(),
                        format!("{at} has no action"),
                    ));
                }
                1 => {}
                _ => {
                    return Err((
                        "Bad Request: can't parse inline keyboard button: exactly one action \
                         field is allowed"
                            .into(),
                        format!("{at} has {}", actions.join(" and ")),
                    ));
                }
            }
            if let Some(url) = obj.get("url").and_then(Value::as_str)
                && let Err(why) = check_button_url(url, max_url)
            {
                return Err((
                    "Bad Request: BUTTON_URL_INVALID".into(),
                    format!("{at}: {why}"),
                ));
            }
        }
    }
    Ok(())
}

fn check_button_url(url: &str, max_len: usize) -> Result<(), String> {
    if url.len() > max_len {
        return Err(format!("URL is {} bytes, more than {max_len}", url.len()));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "tg" => Ok(()),
        scheme => Err(format!("{url:?}: scheme {scheme} or host not allowed")),
    }
}

/// A photo given as a string: a URL Telegram fetches, a file_id, or `attach://`.
fn check_photo(photo: &str) -> Result<(), String> {
    const WRONG: &str = "Bad Request: wrong file identifier/HTTP URL specified";
    if photo.starts_with("attach://") {
        return Ok(());
    }
    if photo.contains("://") {
        let ok = url::Url::parse(photo).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        });
        return if ok { Ok(()) } else { Err(WRONG.into()) };
    }
    if photo.is_empty() || photo.chars().any(char::is_whitespace) {
        return Err(WRONG.into());
    }
    Ok(())
}

// ================================================================================================
// Rate limiter: Telegram's per-chat and global message limits
// ================================================================================================

#[derive(Default)]
struct RateLimiter {
    /// Times of accepted messages per chat (the last minute).
    per_chat: HashMap<String, VecDeque<Instant>>,
    /// Times of accepted messages in all chats (the last second).
    global: VecDeque<Instant>,
    /// After a 429: no call for the chat before this instant.
    blocked_until: HashMap<String, Instant>,
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

impl RateLimiter {
    /// Remaining block of a chat after an earlier 429, if any.
    fn blocked_for(&self, chat: &str, now: Instant, tolerance: Duration) -> Option<Duration> {
        let until = *self.blocked_until.get(chat)?;
        (now + tolerance < until).then(|| until - now)
    }

    fn block(&mut self, chat: &str, until: Instant) {
        let entry = self.blocked_until.entry(chat.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Whether one more message for `chat` keeps every limit; on success counts it.
    fn admit(
        &mut self,
        chat: &str,
        now: Instant,
        opts: &FakeOptions,
    ) -> Result<(), (Rule, Duration)> {
        let times = self.per_chat.entry(chat.to_owned()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= MINUTE)
        {
            times.pop_front();
        }
        while self
            .global
            .front()
            .is_some_and(|t| now.duration_since(*t) >= SECOND)
        {
            self.global.pop_front();
        }
        let tol = opts.rate_tolerance;
        let checks = [
            (
                Rule::PerChatPerSecond,
                &*times,
                SECOND,
                opts.per_chat_per_second,
            ),
            (
                Rule::PerChatPerMinute,
                &*times,
                MINUTE,
                opts.per_chat_per_minute,
            ),
            (
                Rule::GlobalPerSecond,
                &self.global,
                SECOND,
                opts.global_per_second,
            ),
        ];
        for (rule, times, window, limit) in checks {
            // Messages within the window, shortened by the tolerance.
            let inside: Vec<Instant> = times
                .iter()
                .copied()
                .filter(|t| now.duration_since(*t) + tol < window)
                .collect();
            if inside.len() >= limit as usize {
                // Allowed again once the oldest message that keeps us at the limit leaves.
                let wait = if limit == 0 {
                    window
                } else {
                    let oldest = inside[inside.len() - limit as usize];
                    (oldest + window).saturating_duration_since(now)
                };
                return Err((rule, wait));
            }
        }
        times.push_back(now);
        self.global.push_back(now);
        Ok(())
    }
}

/// `retry_after` in whole seconds, at least 1.
fn whole_seconds(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

// ================================================================================================
// Faults
// ================================================================================================

struct Armed {
    fault: Fault,
    when: Match,
}

impl Armed {
    fn matches(&self, method: &str, chat: Option<&ChatInfo>) -> bool {
        if self.when.times == 0 {
            return false;
        }
        if self.fault == Fault::PhotoRejected && method != "sendPhoto" {
            return false;
        }
        if let Some(m) = &self.when.method
            && *m != method.to_ascii_lowercase()
        {
            return false;
        }
        match (&self.when.chat, chat) {
            (None, _) => true,
            (Some(want), Some(chat)) => chat.answers_to(want),
            (Some(_), None) => false,
        }
    }
}

fn server_error(code: u16) -> Reply {
    let description = match code {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Server Error",
    };
    Reply::error(code, description)
}

fn too_many_requests(secs: u64) -> Reply {
    let mut reply = Reply::error(429, format!("Too Many Requests: retry after {secs}"));
    reply.body["parameters"] = json!({ "retry_after": secs });
    reply
}

// ================================================================================================
// Server
// ================================================================================================

struct Shared {
    options: FakeOptions,
    down: Arc<AtomicBool>,
    state: Mutex<FakeState>,
    updates_changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, FakeState> {
        // A panicking test thread must not hide the state from the next assertion.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
struct FakeState {
    messages: Vec<SentMessage>,
    last_message_id: HashMap<String, i64>,
    edits: Vec<EditRecord>,
    violations: Vec<Violation>,
    requests: Vec<RequestRecord>,
    faults: Vec<Armed>,
    rate: RateLimiter,
    chats: HashMap<String, ChatInfo>,
    last_anonymous_id: i64,
    updates: VecDeque<Value>,
    next_update_id: i64,
    /// `@name`s that no longer name a chat (see [`FakeBotApi::forget_username`]).
    forgotten_names: Vec<String>,
    /// Names moved to another chat, latest last ([`FakeBotApi::move_username`]).
    moved_names: Vec<(String, i64)>,
}

/// A chat as the fake knows it.
#[derive(Clone, Debug)]
struct ChatInfo {
    key: String,
    id: i64,
    kind: ChatKind,
    title: String,
    username: Option<String>,
    member: bool,
}

impl ChatInfo {
    /// Whether `chat` (`"@name"` or an id, as a test writes it) names this chat.
    fn answers_to(&self, chat: &str) -> bool {
        match chat.strip_prefix('@') {
            Some(name) => self
                .username
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(name)),
            None => chat == self.key || chat.parse() == Ok(self.id),
        }
    }

    fn json(&self) -> Value {
        let mut chat = match self.kind {
            ChatKind::Channel => json!({ "id": self.id, "type": "channel", "title": self.title }),
            ChatKind::Supergroup => {
                json!({ "id": self.id, "type": "supergroup", "title": self.title })
            }
            ChatKind::Private => {
                json!({ "id": self.id, "type": "private", "first_name": self.title })
            }
        };
        if let Some(username) = &self.username {
            chat["username"] = json!(username);
        }
        chat
    }
}

/// The configured chat that `chat` (`"@name"`, any case, or an id as text) names.
fn find_configured<'a>(opts: &'a FakeOptions, chat: &str) -> Option<&'a ChatConfig> {
    opts.chats.iter().find(|c| match chat.strip_prefix('@') {
        Some(name) => c
            .username
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(name)),
        None => chat.trim().parse() == Ok(c.id),
    })
}

/// The record key of a chat as a test or a request writes it: a configured chat's id, else
/// `@name` in lowercase, else the id.
fn chat_key(opts: &FakeOptions, chat: &str) -> String {
    match find_configured(opts, chat) {
        Some(c) => c.id.to_string(),
        None if chat.starts_with('@') => chat.to_ascii_lowercase(),
        None => chat.trim().to_owned(),
    }
}

impl FakeState {
    /// The record key of a chat as a test or a request writes it (see `chat_key`): a chat known
    /// by its `@name` is the same chat when called by the numeric id it was given, as on
    /// Telegram.
    fn key_of(&self, opts: &FakeOptions, chat: &str) -> String {
        if let Ok(id) = chat.trim().parse::<i64>()
            && find_configured(opts, chat).is_none()
            && let Some(known) = self.chats.values().find(|c| c.id == id)
        {
            return known.key.clone();
        }
        chat_key(opts, chat)
    }

    /// Finds or makes the chat that `chat_id` names; Err is the Telegram answer.
    fn resolve_chat(&mut self, value: &Value, opts: &FakeOptions) -> Result<ChatInfo, Reply> {
        let not_found = || Reply::error(400, "Bad Request: chat not found");
        let text = match value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => return Err(not_found()),
        };
        if let Some(name) = text.strip_prefix('@')
            && self.forgotten_names.contains(&name.to_ascii_lowercase())
        {
            return Err(not_found());
        }
        let moved = text.strip_prefix('@').and_then(|name| {
            let name = name.to_ascii_lowercase();
            self.moved_names.iter().rev().find(|(n, _)| *n == name)
        });
        let text = moved.map_or(text, |(_, to)| to.to_string());
        if let Some(c) = find_configured(opts, &text) {
            let chat = ChatInfo {
                key: c.id.to_string(),
                id: c.id,
                kind: c.kind,
                title: c.title.clone(),
                username: c.username.clone(),
                member: c.bot_is_member,
            };
            return Ok(chat);
        }
        if opts.only_configured_chats {
            return Err(not_found());
        }
        let key = self.key_of(opts, &text);
        if let Some(chat) = self.chats.get(&key) {
            return Ok(chat.clone());
        }
        let chat = if let Some(name) = text.strip_prefix('@') {
            // Telegram usernames: 5-32 characters of a-z, 0-9 and underscores, starting with a
            // letter; anything else cannot name a chat.
            let valid = (5..=32).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(not_found());
            }
            self.last_anonymous_id += 1;
            ChatInfo {
                key: key.clone(),
                id: -1_001_000_000_000 - self.last_anonymous_id,
                kind: ChatKind::Channel,
                title: format!("Channel {text}"),
                username: Some(name.to_owned()),
                member: true,
            }
        } else {
            let id: i64 = key.parse().map_err(|_| not_found())?;
            let (kind, title) = match id {
                0 => return Err(not_found()),
                ..0 => (ChatKind::Channel, format!("Channel {id}")),
                _ => (ChatKind::Private, "Test User".to_owned()),
            };
            ChatInfo {
                key: key.clone(),
                id,
                kind,
                title,
                username: None,
                member: true,
            }
        };
        self.chats.insert(key, chat.clone());
        Ok(chat)
    }

    fn take_fault(&mut self, method: &str, chat: Option<&ChatInfo>) -> Option<Fault> {
        for armed in self.faults.iter_mut().filter(|a| a.matches(method, chat)) {
            if armed.when.skip > 0 {
                armed.when.skip -= 1;
                continue;
            }
            armed.when.times -= 1;
            return Some(armed.fault.clone());
        }
        None
    }

    /// Counts a message against the rate limits, or answers 429 and records the violation.
    fn admit(
        &mut self,
        chat: &ChatInfo,
        method: &str,
        now: Instant,
        opts: &FakeOptions,
    ) -> Result<(), Reply> {
        let (rule, wait) = match self.rate.admit(&chat.key, now, opts) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let secs = whole_seconds(wait);
        // Telegram expects the client to wait the announced time before any call for the chat.
        self.rate.block(&chat.key, now + Duration::from_secs(secs));
        self.violations.push(Violation {
            chat: chat.key.clone(),
            method: method.to_owned(),
            rule,
            time: now,
        });
        Err(too_many_requests(secs))
    }

    fn next_message_id(&mut self, chat: &str, opts: &FakeOptions) -> i64 {
        let id = self
            .last_message_id
            .entry(chat.to_owned())
            .or_insert(opts.first_message_id - 1);
        *id += 1;
        *id
    }
}

/// What to answer, and how.
struct Reply {
    status: u16,
    body: Value,
    note: Option<String>,
    after: After,
}

enum After {
    Respond,
    Delay(Duration),
    Drop,
    /// getUpdates: wait for updates.
    Poll {
        offset: i64,
        limit: usize,
        timeout: Duration,
    },
}

impl Reply {
    fn ok(result: Value) -> Reply {
        Reply {
            status: 200,
            body: json!({ "ok": true, "result": result }),
            note: None,
            after: After::Respond,
        }
    }

    fn error(code: u16, description: impl Into<String>) -> Reply {
        Reply {
            status: code,
            body: json!({ "ok": false, "error_code": code, "description": description.into() }),
            note: None,
            after: After::Respond,
        }
    }

    fn bad(description: impl Into<String>) -> Reply {
        Reply::error(400, description)
    }

    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body.to_string(),
        )
            .into_response()
    }
}

// ---- connections: a listener whose connections a handler can cut --------------------------------

/// Accepts TCP connections; while down, closes each at once.
struct FakeListener {
    inner: TcpListener,
    down: Arc<AtomicBool>,
}

/// The per-connection handle a handler gets: `kill()` makes every further read and write of
/// the connection fail, so the server closes it without writing the response.
#[derive(Clone, Debug)]
struct Conn {
    killed: Arc<AtomicBool>,
}

impl Conn {
    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableStream {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection cut by the fake Bot API",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl Listener for FakeListener {
    type Io = KillableStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, _)) = self.inner.accept().await else {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            };
            if self.down.load(Ordering::SeqCst) {
                drop(stream);
                continue;
            }
            let killed = Arc::new(AtomicBool::new(false));
            let conn = Conn {
                killed: killed.clone(),
            };
            return (
                KillableStream {
                    inner: stream,
                    killed,
                },
                conn,
            );
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Conn {
            killed: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Connected<IncomingStream<'_, FakeListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, FakeListener>) -> Self {
        stream.remote_addr().clone()
    }
}

// ---- the handler ----------------------------------------------------------------------------

async fn serve_request(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    req: Request,
) -> Response {
    let now = Instant::now();
    let path = req.uri().path().to_owned();
    let Some((token, method)) = path
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
    else {
        return Reply::error(404, "Not Found").into_response();
    };
    let mut log = RequestRecord {
        method: method.to_owned(),
        chat: None,
        status: 0,
        description: None,
        note: None,
        params: Value::Null,
        multipart: false,
        dropped: false,
        time: now,
    };
    if shared.down.load(Ordering::SeqCst) {
        // A connection opened before going down: cut it too.
        conn.kill();
        log.dropped = true;
        shared.lock().requests.push(log);
        return StatusCode::BAD_GATEWAY.into_response();
    }
    let reply = if token != TOKEN {
        // Telegram answers a wrong token with 401 "Unauthorized" whatever the method.
        Reply::error(401, "Unauthorized")
    } else if let Some(def) = schema().method(method) {
        log.method = def.name.clone();
        match read_params(req, def).await {
            Ok(params) => {
                log.multipart = params.multipart;
                log.params = Value::Object(params.fields.clone());
                log.chat = params.fields.get("chat_id").map(|c| {
                    let st = shared.lock();
                    match c {
                        Value::String(s) => st.key_of(&shared.options, s),
                        other => st.key_of(&shared.options, &other.to_string()),
                    }
                });
                process(&shared, def, &params, now)
            }
            Err(description) => Reply::bad(description),
        }
    } else {
        Reply::error(404, "Not Found: method not found")
    };
    log.status = reply.status;
    log.note = reply.note.clone();
    log.description = reply.body["description"].as_str().map(str::to_owned);
    log.dropped = matches!(reply.after, After::Drop);
    shared.lock().requests.push(log);
    let reply = match reply.after {
        After::Respond => reply,
        After::Delay(d) => {
            tokio::time::sleep(d).await;
            reply
        }
        After::Drop => {
            conn.kill();
            reply
        }
        After::Poll {
            offset,
            limit,
            timeout,
        } => Reply::ok(long_poll(&shared, offset, limit, timeout).await),
    };
    // Went down while this request waited: its answer is lost too.
    if shared.down.load(Ordering::SeqCst) {
        conn.kill();
    }
    reply.into_response()
}

/// getUpdates: "Updates with an identifier less than `offset` are confirmed and dropped"; with
/// none pending, waits up to `timeout` for one.
async fn long_poll(shared: &Shared, offset: i64, limit: usize, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let notified = shared.updates_changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut st = shared.lock();
            while st
                .updates
                .front()
                .is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset)
            {
                st.updates.pop_front();
            }
            if !st.updates.is_empty() || Instant::now() >= deadline {
                return Value::Array(st.updates.iter().take(limit).cloned().collect());
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

/// One validated call: chat, faults, retry_after blocks, then the method itself.
fn process(shared: &Shared, def: &MethodDef, params: &Params, now: Instant) -> Reply {
    if let Err(description) = schema().check_params(def, params) {
        return Reply::bad(format!("Bad Request: {description}"));
    }
    let opts = &shared.options;
    let mut st = shared.lock();
    let chat = match params.fields.get("chat_id") {
        Some(v) => match st.resolve_chat(v, opts) {
            Ok(chat) => Some(chat),
            Err(reply) => return reply,
        },
        None => None,
    };
    let mut after = After::Respond;
    let mut fail_after = None;
    match st.take_fault(&def.name, chat.as_ref()) {
        None => {}
        Some(Fault::AcceptThenServerError(code)) => fail_after = Some(code),
        Some(Fault::ServerError(code)) => return server_error(code),
        Some(Fault::Delay(d)) => after = After::Delay(d),
        Some(Fault::AcceptThenDrop) => after = After::Drop,
        Some(Fault::Forbidden) => {
            let description = match chat.as_ref().map(|c| c.kind) {
                Some(ChatKind::Supergroup) => "Forbidden: bot was kicked from the supergroup chat",
                Some(ChatKind::Private) => "Forbidden: bot was blocked by the user",
                _ => "Forbidden: bot was kicked from the channel chat",
            };
            return Reply::error(403, description);
        }
        Some(Fault::ChatNotFound) => return Reply::bad("Bad Request: chat not found"),
        Some(Fault::Migrate(to)) => {
            let mut reply = Reply::bad("Bad Request: group chat was upgraded to a supergroup chat");
            reply.body["parameters"] = json!({ "migrate_to_chat_id": to });
            return reply;
        }
        Some(Fault::TooManyRequests(secs)) => {
            if let Some(chat) = &chat {
                st.rate
                    .block(&chat.key, now + Duration::from_secs(secs.into()));
            }
            return too_many_requests(secs.into());
        }
        Some(Fault::PhotoRejected) => {
            return Reply::bad("Bad Request: wrong type of the web page content");
        }
        Some(Fault::BadRequest(description)) => return Reply::bad(description),
    }
    if let Some(chat) = &chat {
        if let Some(left) = st.rate.blocked_for(&chat.key, now, opts.rate_tolerance) {
            st.violations.push(Violation {
                chat: chat.key.clone(),
                method: def.name.clone(),
                rule: Rule::DuringRetryAfter,
                time: now,
            });
            return too_many_requests(whole_seconds(left));
        }
        if !chat.member {
            return Reply::error(403, "Forbidden: bot is not a member of the channel chat");
        }
    }
    let outcome = match def.name.as_str() {
        "getMe" => Ok(bot_user()),
        "getUpdates" => {
            let number = |k: &str| params.fields.get(k).and_then(Value::as_i64);
            return Reply {
                after: After::Poll {
                    offset: number("offset").unwrap_or(0),
                    limit: number("limit").unwrap_or(100).clamp(1, 100) as usize,
                    timeout: Duration::from_secs(number("timeout").unwrap_or(0).max(0) as u64),
                },
                ..Reply::ok(Value::Null)
            };
        }
        "getChat" => match &chat {
            Some(chat) => {
                let mut full = chat.json();
                full["accent_color_id"] = json!(0);
                full["max_reaction_count"] = json!(11);
                full["accepted_gift_types"] = json!({
                    "unlimited_gifts": false, "limited_gifts": false,
                    "unique_gifts": false, "premium_subscription": false,
                });
                Ok(full)
            }
            None => Err(Reply::bad("Bad Request: chat_id is empty")),
        },
        "getWebhookInfo" => Ok(json!({
            "url": "",
            "has_custom_certificate": false,
            "pending_update_count": st.updates.len(),
        })),
        "sendMessage" | "sendPhoto" => send(&mut st, opts, def, params, chat, now),
        "editMessageText" | "editMessageCaption" | "editMessageReplyMarkup" => {
            edit(&mut st, opts, def, params, chat, now)
        }
        "deleteMessage" => delete(&mut st, params, chat),
        // Methods documented as "Returns True on success".
        _ if def.returns == ["Boolean"] => Ok(Value::Bool(true)),
        name => Err(Reply::bad(format!(
            "Bad Request: the fake Bot API does not implement {name}"
        ))),
    };
    let mut reply = outcome.map_or_else(|e| e, Reply::ok);
    if reply.status == 200 {
        if let Some(code) = fail_after {
            return Reply {
                note: Some("the call was carried out, then answered with a server error".into()),
                ..server_error(code)
            };
        }
        reply.after = after;
    }
    reply
}

fn bad_with_note((description, note): (String, String)) -> Reply {
    Reply {
        note: Some(note),
        ..Reply::bad(description)
    }
}

/// sendMessage / sendPhoto.
fn send(
    st: &mut FakeState,
    opts: &FakeOptions,
    def: &MethodDef,
    params: &Params,
    chat: Option<ChatInfo>,
    now: Instant,
) -> Result<Value, Reply> {
    let chat = chat.ok_or_else(|| Reply::bad("Bad Request: chat_id is empty"))?;
    let is_photo = def.name == "sendPhoto";
    let (text, caption, formatted, photo) = if is_photo {
        let caption = params.str("caption").map(str::to_owned);
        let formatted = format_text(caption.as_deref().unwrap_or(""), params, "caption_entities")
            .map_err(Reply::bad)?;
        check_caption(&formatted).map_err(Reply::bad)?;
        let raw = params.str("photo").unwrap_or_default();
        check_photo(raw).map_err(Reply::bad)?;
        let photo = match raw.strip_prefix("attach://") {
            Some(part) => {
                let upload = &params.uploads[part];
                let name = upload.file_name.as_deref().unwrap_or(part);
                format!("upload:{name} ({} bytes)", upload.bytes)
            }
            None => raw.to_owned(),
        };
        (None, caption, formatted, Some(photo))
    } else {
        let text = params.str("text").unwrap_or_default().to_owned();
        let formatted = format_text(&text, params, "entities").map_err(Reply::bad)?;
        check_text(&formatted).map_err(Reply::bad)?;
        (Some(text), None, formatted, None)
    };
    if let Some(markup) = params.fields.get("reply_markup") {
        check_reply_markup(markup, opts.max_button_url_len).map_err(bad_with_note)?;
    }
    st.admit(&chat, &def.name, now, opts)?;
    let message = SentMessage {
        message_id: st.next_message_id(&chat.key, opts),
        chat: chat.key.clone(),
        method: def.name.clone(),
        text,
        caption,
        plain: formatted.text,
        entities: formatted.entities,
        parse_mode: params.str("parse_mode").map(str::to_owned),
        photo,
        reply_markup: params.fields.get("reply_markup").cloned(),
        link_preview_options: params.fields.get("link_preview_options").cloned(),
        time: now,
        date: unix_now(),
        edit_count: 0,
        deleted: false,
        from_other: false,
    };
    let json = message_json(&chat, &message, None);
    st.messages.push(message);
    Ok(json)
}

/// editMessageText / editMessageCaption / editMessageReplyMarkup of a message in a chat.
fn edit(
    st: &mut FakeState,
    opts: &FakeOptions,
    def: &MethodDef,
    params: &Params,
    chat: Option<ChatInfo>,
    now: Instant,
) -> Result<Value, Reply> {
    let Some(chat) = chat else {
        return Err(Reply::bad(
            "Bad Request: the fake Bot API does not implement inline messages",
        ));
    };
    let message_id = params
        .fields
        .get("message_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| Reply::bad("Bad Request: message identifier is not specified"))?;
    let index = st
        .messages
        .iter()
        .position(|m| m.chat == chat.key && m.message_id == message_id && !m.deleted)
        .ok_or_else(|| Reply::bad("Bad Request: message to edit not found"))?;
    let old = st.messages[index].clone();
    if old.from_other && !opts.bot_edits_others {
        return Err(Reply::bad("Bad Request: message can't be edited"));
    }
    // Telegram drops the inline keyboard of an edited message unless the edit sends it again.
    let markup = params.fields.get("reply_markup").cloned();
    if let Some(markup) = &markup {
        check_reply_markup(markup, opts.max_button_url_len).map_err(bad_with_note)?;
    }
    let mut new = old.clone();
    new.reply_markup = markup.filter(|m| !is_empty_keyboard(m));
    match def.name.as_str() {
        "editMessageText" => {
            if old.photo.is_some() {
                return Err(Reply::bad(
                    "Bad Request: there is no text in the message to edit",
                ));
            }
            let text = params.str("text").unwrap_or_default();
            let formatted = format_text(text, params, "entities").map_err(Reply::bad)?;
            check_text(&formatted).map_err(Reply::bad)?;
            new.text = Some(text.to_owned());
            new.plain = formatted.text;
            new.entities = formatted.entities;
            if let Some(lpo) = params.fields.get("link_preview_options") {
                new.link_preview_options = Some(lpo.clone());
            }
            new.parse_mode = params.str("parse_mode").map(str::to_owned);
        }
        "editMessageCaption" => {
            if old.photo.is_none() {
                return Err(Reply::bad(
                    "Bad Request: there is no caption in the message to edit",
                ));
            }
            let caption = params.str("caption");
            let formatted = format_text(caption.unwrap_or(""), params, "caption_entities")
                .map_err(Reply::bad)?;
            check_caption(&formatted).map_err(Reply::bad)?;
            new.caption = caption.map(str::to_owned);
            new.plain = formatted.text;
            new.entities = formatted.entities;
            new.parse_mode = params.str("parse_mode").map(str::to_owned);
        }
        _ => {}
    }
    let old_markup = old.reply_markup.clone().filter(|m| !is_empty_keyboard(m));
    if new.plain == old.plain
        && new.entities == old.entities
        && new.reply_markup == old_markup
        && new.link_preview_options == old.link_preview_options
    {
        return Err(Reply::bad(
            "Bad Request: message is not modified: specified new message content and reply \
             markup are exactly the same as a current content and reply markup of the message",
        ));
    }
    st.admit(&chat, &def.name, now, opts)?;
    new.edit_count += 1;
    st.edits.push(EditRecord {
        chat: chat.key.clone(),
        message_id,
        method: def.name.clone(),
        text: new.text.clone(),
        caption: new.caption.clone(),
        reply_markup: new.reply_markup.clone(),
        time: now,
    });
    let json = message_json(&chat, &new, Some(unix_now()));
    st.messages[index] = new;
    Ok(json)
}

fn delete(st: &mut FakeState, params: &Params, chat: Option<ChatInfo>) -> Result<Value, Reply> {
    let not_found = || Reply::bad("Bad Request: message to delete not found");
    let chat = chat.ok_or_else(not_found)?;
    let id = params.fields.get("message_id").and_then(Value::as_i64);
    let message = st
        .messages
        .iter_mut()
        .find(|m| m.chat == chat.key && Some(m.message_id) == id && !m.deleted)
        .ok_or_else(not_found)?;
    message.deleted = true;
    Ok(Value::Bool(true))
}

fn is_empty_keyboard(markup: &Value) -> bool {
    markup["inline_keyboard"]
        .as_array()
        .is_some_and(|rows| rows.iter().all(|r| r.as_array().is_none_or(Vec::is_empty)))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn bot_user() -> Value {
    json!({
        "id": BOT_ID,
        "is_bot": true,
        "first_name": "Herald Test Bot",
        "username": "herald_test_bot",
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false,
    })
}

/// The Bot API `Message` for a recorded message, as Telegram returns it.
fn message_json(chat: &ChatInfo, m: &SentMessage, edit_date: Option<i64>) -> Value {
    let mut msg = json!({
        "message_id": m.message_id,
        "date": m.date,
        "chat": chat.json(),
    });
    if chat.kind == ChatKind::Channel {
        // Channel posts carry the channel as sender and no `from`.
        msg["sender_chat"] = chat.json();
    } else {
        msg["from"] = json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Herald Test Bot",
            "username": "herald_test_bot",
        });
    }
    let entities = Value::Array(m.entities.clone());
    if m.photo.is_some() {
        let file = format!("fake-photo-{}-{}", chat.id, m.message_id);
        msg["photo"] = json!([
            { "file_id": format!("{file}-s"), "file_unique_id": format!("{file}-s"),
              "width": 90, "height": 60, "file_size": 1200 },
            { "file_id": format!("{file}-m"), "file_unique_id": format!("{file}-m"),
              "width": 1280, "height": 853, "file_size": 96000 },
        ]);
        if m.caption.is_some() {
            msg["caption"] = json!(m.plain);
            if !m.entities.is_empty() {
                msg["caption_entities"] = entities;
            }
        }
    } else {
        msg["text"] = json!(m.plain);
        if !m.entities.is_empty() {
            msg["entities"] = entities;
        }
        if let Some(lpo) = &m.link_preview_options {
            msg["link_preview_options"] = lpo.clone();
        }
    }
    // Message.reply_markup: "Inline keyboard attached to the message".
    if let Some(markup) = &m.reply_markup
        && markup.get("inline_keyboard").is_some()
        && !is_empty_keyboard(markup)
    {
        msg["reply_markup"] = markup.clone();
    }
    if let Some(date) = edit_date {
        msg["edit_date"] = json!(date);
    }
    msg
}

/// A command from `from` (a private chat with that user), as Telegram delivers it to getUpdates.
pub fn command(from: i64, text: &str) -> serde_json::Value {
    serde_json::json!({
        "message": {
            "message_id": 1,
            "date": 1_770_000_000,
            "chat": {"id": from, "type": "private", "first_name": "A"},
            "from": {"id": from, "is_bot": false, "first_name": "A"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": text.split(' ').next().unwrap().len()}],
        }
    })
}

/// The release numbers listed by digest messages (of `site::release_en` releases), in order.
pub fn listed(messages: &[SentMessage]) -> Vec<u64> {
    messages
        .iter()
        .filter_map(|m| m.text.as_ref())
        .flat_map(|text| text.lines().filter(|l| l.starts_with("• ")))
        .map(|line| {
            let number = line.split("number ").nth(1).unwrap();
            number.split('<').next().unwrap().parse().unwrap()
        })
        .collect()
}
