//! `storehub demo`: three stores with opening hours, twenty articles with
//! stock, the module switched on, and a fresh API key printed at start.

use serde_json::{Map, json};

use crate::context::AppContext;
use crate::domain::opening_hours::WeeklyJson;
use crate::services::{
    self,
    catalogue::{ArticleBody, StoreBody},
    staff::Role,
    stock::StockCount,
};
use crate::store;

fn hours(days: &[&str], open: &str, close: &str) -> WeeklyJson {
    days.iter()
        .map(|d| {
            (
                (*d).to_string(),
                vec![[open.to_string(), close.to_string()]],
            )
        })
        .collect()
}

fn stores() -> Vec<(&'static str, StoreBody)> {
    let week = ["mon", "tue", "wed", "thu", "fri", "sat"];
    let mut lyon = hours(&week, "10:00", "19:30");
    lyon.insert("sun".into(), vec![["10:00".into(), "13:00".into()]]);
    vec![
        (
            "PAR01",
            StoreBody {
                code: Some("PAR01".into()),
                name: "Paris Rivoli".into(),
                email: "rivoli@demo.storehub.test".into(),
                time_zone: "Europe/Paris".into(),
                opening_hours: Some(hours(&week, "09:30", "19:30")),
                closed_dates: vec![],
                address: "120 rue de Rivoli, 75001 Paris".into(),
            },
        ),
        (
            "LYO01",
            StoreBody {
                code: Some("LYO01".into()),
                name: "Lyon Part-Dieu".into(),
                email: "partdieu@demo.storehub.test".into(),
                time_zone: "Europe/Paris".into(),
                opening_hours: Some(lyon),
                closed_dates: vec![],
                address: "17 rue du Docteur Bouchut, 69003 Lyon".into(),
            },
        ),
        (
            "MTL01",
            StoreBody {
                code: Some("MTL01".into()),
                name: "Montréal Sainte-Catherine".into(),
                email: "montreal@demo.storehub.test".into(),
                time_zone: "America/Toronto".into(),
                opening_hours: Some(hours(
                    &["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "10:00",
                    "21:00",
                )),
                closed_dates: vec![],
                address: "705 rue Sainte-Catherine O, Montréal".into(),
            },
        ),
    ]
}

const ARTICLES: [(&str, &str, &str); 20] = [
    ("TSHIRT-BLU-M", "T-shirt coton bio", "Bleu, M"),
    ("TSHIRT-BLU-L", "T-shirt coton bio", "Bleu, L"),
    ("TSHIRT-WHT-M", "T-shirt coton bio", "Blanc, M"),
    ("JEAN-SLIM-40", "Jean slim", "Brut, 40"),
    ("JEAN-SLIM-42", "Jean slim", "Brut, 42"),
    ("SNEAK-WHT-41", "Baskets cuir", "Blanc, 41"),
    ("SNEAK-WHT-42", "Baskets cuir", "Blanc, 42"),
    ("SNEAK-BLK-43", "Baskets cuir", "Noir, 43"),
    ("PARKA-KAK-M", "Parka imperméable", "Kaki, M"),
    ("PARKA-NAV-L", "Parka imperméable", "Marine, L"),
    ("PULL-LAIN-S", "Pull laine mérinos", "Gris, S"),
    ("PULL-LAIN-M", "Pull laine mérinos", "Gris, M"),
    ("CHEM-OXF-39", "Chemise Oxford", "Bleu ciel, 39"),
    ("CHEM-OXF-41", "Chemise Oxford", "Bleu ciel, 41"),
    ("SAC-CUIR-UNI", "Sac cabas cuir", "Cognac"),
    ("CEINT-CUIR-90", "Ceinture cuir", "Noir, 90"),
    ("BONNET-LAINE", "Bonnet côtelé", "Moutarde"),
    ("ECHARPE-CACH", "Écharpe cachemire", "Camel"),
    ("ROBE-LIN-38", "Robe en lin", "Écru, 38"),
    ("SHORT-BAIN-M", "Short de bain", "Corail, M"),
];

/// The password of every demo account (the demo is for trying, not for real use).
pub const DEMO_PASSWORD: &str = "storehub-demo";

const DEMO_STAFF: &[(&str, &str, Role, &[&str])] = &[
    (
        "julie@demo.storehub.test",
        "Julie (Paris)",
        Role::Staff,
        &["PAR01"],
    ),
    (
        "karim@demo.storehub.test",
        "Karim (Lyon)",
        Role::Staff,
        &["LYO01"],
    ),
    (
        "lea@demo.storehub.test",
        "Léa (Montréal)",
        Role::Staff,
        &["MTL01"],
    ),
    (
        "manon@demo.storehub.test",
        "Manon (manager)",
        Role::Manager,
        &["PAR01", "LYO01"],
    ),
];

/// Check digit of an EAN-13 from its first twelve digits.
fn ean13(first_twelve: u64) -> String {
    let digits = format!("{first_twelve:012}");
    let values: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    format!("{digits}{}", crate::barcode::check_digit(&values))
}

/// Where the demo keeps its VAPID key, so browsers stay subscribed across runs.
const DEMO_VAPID_FILE: &str = "storehub-demo.vapid";

/// The demo's Web Push key: read from its file, or made and saved once.
pub fn vapid_key() -> anyhow::Result<String> {
    if let Ok(saved) = std::fs::read_to_string(DEMO_VAPID_FILE) {
        return Ok(saved.trim().to_string());
    }
    let keys = mobile_bridge::webpush::generate_vapid_keys().map_err(anyhow::Error::msg)?;
    std::fs::write(DEMO_VAPID_FILE, &keys.private_key)?;
    Ok(keys.private_key)
}

/// Seeds once (when no store exists) and prints how to use the demo.
pub async fn seed_and_print(ctx: &AppContext, port: u16) -> anyhow::Result<()> {
    let fail = |e: crate::error::ApiError| anyhow::anyhow!("demo seed: {e}");
    if store::stores::list(ctx.db.conn()).await?.is_empty() {
        for (code, body) in stores() {
            services::catalogue::put_store(ctx, code, body)
                .await
                .map_err(fail)?;
        }
        for (index, (sku, designation, variant)) in ARTICLES.iter().enumerate() {
            let body = ArticleBody {
                sku: None,
                designation: (*designation).into(),
                variant: Some((*variant).into()),
                ean: Some(ean13(376_000_000_000 + index as u64)),
                reservable: true,
            };
            services::catalogue::put_article(ctx, sku, body)
                .await
                .map_err(fail)?;
        }
        for (store_index, (code, _)) in stores().iter().enumerate() {
            let counts = ARTICLES
                .iter()
                .enumerate()
                .map(|(i, (sku, _, _))| StockCount {
                    sku: (*sku).into(),
                    on_hand: ((i + store_index * 3) % 7) as i64,
                })
                .collect();
            services::stock::put_counts(ctx, code, counts)
                .await
                .map_err(fail)?;
        }
        for (email, name, role, stores) in DEMO_STAFF {
            let new = services::staff::NewStaff {
                email: email.to_string(),
                name: name.to_string(),
                password: DEMO_PASSWORD.to_string(),
                role: *role,
                stores: stores.iter().map(|s| s.to_string()).collect(),
            };
            services::staff::create(ctx, new).await.map_err(fail)?;
        }
        let mut switch_on = Map::new();
        switch_on.insert("module_active".into(), json!(true));
        services::settings::patch(ctx, None, &switch_on)
            .await
            .map_err(fail)?;
        tracing::info!("demo data created");
    }
    let key = services::api_keys::create(ctx, "demo")
        .await
        .map_err(fail)?;
    let base = format!("http://127.0.0.1:{port}");
    println!(
        "\nStorehub demo is running.\n\
         \n  API docs:      {base}/api/docs/\
         \n  Readiness:     {base}/ready\
         \n  Stores:        PAR01 (Paris), LYO01 (Lyon), MTL01 (Montréal); 20 articles with stock\
         \n  API key:       {key}\
         \n  Staff logins:  {logins} (password: {DEMO_PASSWORD})\
         \n\nTry:\n  curl -H 'Authorization: Bearer {key}' {base}/api/v1/availability?sku=SNEAK-WHT-42\
         \n  curl -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\
         \n       -d '{{\"store\":\"PAR01\",\"customer\":{{\"first_name\":\"Marie\",\"email\":\"marie@example.fr\",\"identified\":true,\"external_id\":\"C42\"}},\"lines\":[{{\"sku\":\"SNEAK-WHT-42\",\"quantity\":1}}],\"accept_terms\":true}}' \\\
         \n       {base}/api/v1/reservations\n",
        key = key.key,
        logins = DEMO_STAFF
            .iter()
            .map(|(email, _, role, stores)| format!(
                "{email} ({} of {})",
                role.as_str(),
                stores.join("+")
            ))
            .collect::<Vec<_>>()
            .join(", "),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ean13_check_digit() {
        // 4006381333931 is a well-known valid EAN-13.
        assert_eq!(super::ean13(400_638_133_393), "4006381333931");
    }
}
