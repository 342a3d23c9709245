//! Typed settings from the environment (and an optional `.env`). A missing or malformed
//! required setting stops start-up with a message naming it. Secrets are never printed.

use std::fmt;
use std::net::SocketAddr;

use commands::commerce::CommerceSettings;
use domain::commerce::pricing::CommissionRate;
use domain::invoicing::seller::{ADDRESS_LEN_MAX, Seller, SellerError, SellerField};

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    /// Without it the relay does not run and projectors read the store directly.
    pub nats_url: Option<String>,
    /// Names this deployment's fan-out on NATS (stream and subjects); by default the store's
    /// own id, unique per database.
    pub deployment_id: Option<String>,
    pub http_addr: SocketAddr,
    /// The address clients reach this server at, for links it hands out (`PUBLIC_URL`); by
    /// default `http://` and the address it listens on.
    pub public_url: Option<String>,
    pub jwt_secret: Secret,
    pub payment_sandbox_secret: Secret,
    /// Wraps every user's data key and names reservation streams: it must never change.
    pub data_key_secret: Secret,
    pub rate_limit_per_minute: u32,
    pub auth_rate_limit_per_minute: u32,
    pub bootstrap_admin: Option<(String, Secret)>,
    /// How long a client has to send a request's body, in milliseconds.
    pub request_body_timeout_ms: u64,
    /// Seed demo data at start-up (the README's run command sets it).
    pub seed_demo_data: bool,
    /// Serve the sandbox provider's checkout page (development only).
    pub sandbox_checkout: bool,
    /// The platform's share of each sale's net (`COMMISSION_RATE`, default 0.20), and how long
    /// an earning stays pending (`EARNINGS_RELEASE_DAYS`, default 7; 0 releases at the next tick).
    pub commerce: CommerceSettings,
    /// How often the scheduler looks for due work (`SCHEDULER_INTERVAL_SECONDS`, default 30).
    pub scheduler_interval: std::time::Duration,
    /// The seller of record on every invoice (`SELLER_NAME_AR`, `SELLER_NAME_EN`,
    /// `SELLER_VAT_NUMBER`, `SELLER_ADDRESS`: all required).
    pub seller: Seller,
    /// The video service rooms and consultations meet on (`JITSI_APP_ID`, `JITSI_APP_SECRET`,
    /// `JITSI_DOMAIN`: all required).
    pub jitsi: Jitsi,
    /// The WebSocket gateway's limits.
    pub realtime: Realtime,
}

/// The WebSocket gateway's limits (`WS_SOCKETS_PER_USER`, default 10; `WS_OUTBOX_FRAMES`, default
/// 256; `WS_PING_SECONDS`, default 15; `TCP_SEND_BUFFER_BYTES`, default 262144).
#[derive(Clone, Debug)]
pub struct Realtime {
    /// Open sockets one user may have in one process.
    pub sockets_per_user: u32,
    /// Frames waiting for a socket before it is closed as a slow reader.
    pub outbox_frames: u32,
    /// How often the server pings; three intervals without a word from the client close it.
    pub ping_interval: std::time::Duration,
    /// The kernel's send buffer of each connection (`TCP_SEND_BUFFER_BYTES`, default 262144):
    /// what a client that stops reading can hold of the server's memory before its socket's
    /// outbox fills and it is disconnected. Unset, Linux grows it to megabytes per connection.
    pub send_buffer_bytes: u32,
}

/// Where sessions meet: a Jitsi deployment that admits holders of tokens signed with `secret`.
#[derive(Clone, Debug)]
pub struct Jitsi {
    pub app_id: String,
    pub secret: Secret,
    /// A host name, such as `meet.example.com`.
    pub domain: String,
}

/// A value that never appears in logs or debug output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("setting {0} is required")]
    Missing(&'static str),
    #[error("setting {name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
}

/// Secrets shorter than this are refused: an HS256 key should carry at least 256 bits.
const SECRET_LEN_MIN: usize = 32;

impl Settings {
    pub fn from_env() -> Result<Self, SettingsError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or(SettingsError::Missing(name));
        let secret = |name: &'static str| {
            let value = required(name)?;
            if value.len() < SECRET_LEN_MIN {
                return Err(SettingsError::Malformed { name, reason: format!("must be at least {SECRET_LEN_MIN} characters") });
            }
            Ok(Secret(value))
        };
        let number = |name: &'static str, default: u32| match get(name) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(SettingsError::Malformed { name, reason: "must be a positive whole number".into() }),
        };
        let flag = |name: &'static str| get(name).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        let database_url = required("DATABASE_URL")?;
        if !database_url.starts_with("mysql://") && !database_url.starts_with("mariadb://") {
            return Err(SettingsError::Malformed { name: "DATABASE_URL", reason: "must be a mysql:// URL".into() });
        }
        let http_addr = get("HTTP_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
        let http_addr = http_addr
            .parse()
            .map_err(|_| SettingsError::Malformed { name: "HTTP_ADDR", reason: "must be host:port, e.g. 127.0.0.1:8080".into() })?;
        let public_url = match get("PUBLIC_URL") {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => Some(url.trim_end_matches('/').to_owned()),
            Some(_) => return Err(SettingsError::Malformed { name: "PUBLIC_URL", reason: "must start with http:// or https://".into() }),
            None => None,
        };
        let bootstrap_admin = match (get("BOOTSTRAP_ADMIN_EMAIL"), get("BOOTSTRAP_ADMIN_PASSWORD")) {
            (Some(email), Some(password)) => Some((email, Secret(password))),
            (None, None) => None,
            (Some(_), None) => return Err(SettingsError::Missing("BOOTSTRAP_ADMIN_PASSWORD")),
            (None, Some(_)) => return Err(SettingsError::Missing("BOOTSTRAP_ADMIN_EMAIL")),
        };
        let commission_rate = match get("COMMISSION_RATE") {
            None => CommissionRate::DEFAULT,
            Some(text) => CommissionRate::parse(text.trim())
                .map_err(|_| SettingsError::Malformed { name: "COMMISSION_RATE", reason: "must be a decimal from 0 up to (not including) 1, e.g. 0.20".into() })?,
        };
        let release_days = match get("EARNINGS_RELEASE_DAYS") {
            None => 7,
            Some(text) => text
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|days| *days <= 3650)
                .ok_or(SettingsError::Malformed { name: "EARNINGS_RELEASE_DAYS", reason: "must be a whole number of days from 0 to 3650".into() })?,
        };
        let (jwt_secret, payment_sandbox_secret, data_key_secret) = (secret("JWT_SECRET")?, secret("PAYMENT_SANDBOX_SECRET")?, secret("DATA_KEY_SECRET")?);
        let seller = Seller::new(
            &required("SELLER_NAME_AR")?,
            &required("SELLER_NAME_EN")?,
            &required("SELLER_VAT_NUMBER")?,
            &required("SELLER_ADDRESS")?,
        )
        .map_err(|error| {
            let name = match error.detail() {
                SellerField::NameAr => "SELLER_NAME_AR",
                SellerField::NameEn => "SELLER_NAME_EN",
                SellerField::VatNumber => "SELLER_VAT_NUMBER",
                SellerField::Address => "SELLER_ADDRESS",
            };
            let reason = match error {
                SellerError::Blank(_) => "must be one line of text".to_owned(),
                SellerError::TooLong(SellerField::Address) => format!("must be at most {ADDRESS_LEN_MAX} characters"),
                SellerError::TooLong(_) => "must be at most 255 bytes of UTF-8 (a ZATCA QR field; an Arabic letter takes two)".to_owned(),
                SellerError::InvalidVatNumber => "must be 15 digits, starting and ending with 3".to_owned(),
            };
            SettingsError::Malformed { name, reason }
        })?;
        let jitsi_domain = required("JITSI_DOMAIN")?.trim().to_owned();
        if jitsi_domain.is_empty() || !jitsi_domain.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')) {
            return Err(SettingsError::Malformed { name: "JITSI_DOMAIN", reason: "must be a host name such as meet.example.com, without a scheme".into() });
        }
        let jitsi = Jitsi { app_id: required("JITSI_APP_ID")?.trim().to_owned(), secret: secret("JITSI_APP_SECRET")?, domain: jitsi_domain };
        Ok(Self {
            seller,
            jitsi,
            commerce: CommerceSettings { commission_rate, earnings_release: chrono::Duration::days(i64::from(release_days)) },
            scheduler_interval: std::time::Duration::from_secs(u64::from(number("SCHEDULER_INTERVAL_SECONDS", 30)?)),
            realtime: Realtime {
                sockets_per_user: number("WS_SOCKETS_PER_USER", 10)?,
                outbox_frames: number("WS_OUTBOX_FRAMES", 256)?,
                ping_interval: std::time::Duration::from_secs(u64::from(number("WS_PING_SECONDS", 15)?)),
                send_buffer_bytes: number("TCP_SEND_BUFFER_BYTES", 256 * 1024)?,
            },
            database_url,
            nats_url: get("NATS_URL"),
            deployment_id: get("DEPLOYMENT_ID"),
            http_addr,
            public_url,
            jwt_secret,
            payment_sandbox_secret,
            data_key_secret,
            rate_limit_per_minute: number("RATE_LIMIT_PER_MINUTE", 60)?,
            auth_rate_limit_per_minute: number("AUTH_RATE_LIMIT_PER_MINUTE", 10)?,
            bootstrap_admin,
            request_body_timeout_ms: u64::from(number("REQUEST_BODY_TIMEOUT_MS", 10_000)?),
            seed_demo_data: flag("SEED_DEMO_DATA"),
            sandbox_checkout: flag("SANDBOX_CHECKOUT"),
        })
    }
}
