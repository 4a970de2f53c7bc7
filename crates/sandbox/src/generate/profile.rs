//! The company profile, the custom-field definitions, and the interned strings the
//! generator reuses for every member.

use std::collections::HashMap;

use rand_chacha::ChaCha8Rng;

use super::util::{at, date, pick, random_id};
use crate::arena::Str;
use crate::model::{
    Company, CompanyProfile, CustomFieldDef, Department, Office, WireAddress, WirePhone,
};
use crate::names::{
    CULTURES, DEPARTMENTS, INTERNATIONAL, LANGUAGES, NICKNAMES, OFFICES, TSHIRT_SIZES, US,
};

pub(super) fn company_profile(
    rng: &mut ChaCha8Rng,
    name: &str,
    founded: i32,
    migrated: i32,
    today: i32,
) -> CompanyProfile {
    let legal_suffix = *pick(rng, &["Inc.", "LLC", "Corp."]);
    let id = random_id(rng, "cmp_");
    let offices = OFFICES
        .iter()
        .map(|(id, name, line1, city, state, postal, country)| Office {
            id: (*id).to_owned(),
            name: (*name).to_owned(),
            address: Some(WireAddress {
                kind: None,
                line1: Some((*line1).to_owned()),
                line2: None,
                city: Some((*city).to_owned()),
                state: (!state.is_empty()).then(|| (*state).to_owned()),
                postal_code: Some((*postal).to_owned()),
                country: Some((*country).to_owned()),
            }),
        })
        .collect::<Vec<_>>();
    let mut hq = offices[0].address.clone().unwrap_or_default();
    hq.kind = Some("headquarters".to_owned());
    let mut country_data = serde_json::Map::new();
    country_data.insert(
        "US".to_owned(),
        serde_json::json!({ "legal_structure": "c_corporation", "state_of_incorporation": "DE",
                            "founded_on": date(founded).to_string() }),
    );
    CompanyProfile {
        id,
        display_name: Some(name.to_owned()),
        legal_name: Some(format!("{name} {legal_suffix}")),
        addresses: vec![hq],
        departments: DEPARTMENTS
            .iter()
            .map(|d| Department {
                id: d.id.to_owned(),
                name: d.name.to_owned(),
            })
            .collect(),
        offices,
        phones: vec![WirePhone {
            number: "+12125550100".to_owned(),
            kind: Some("main".to_owned()),
        }],
        country_data,
        created_at: at(migrated, 9 * 3600),
        updated_at: at((today - 30).max(migrated), 12 * 3600),
    }
}

pub(crate) fn custom_field_defs() -> Vec<CustomFieldDef> {
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    vec![
        CustomFieldDef {
            id: "cf_tshirt_size".into(),
            label: "T-shirt size".into(),
            kind: "select".into(),
            options: s(TSHIRT_SIZES),
            cardinality: "single".into(),
            category: Some("Personal".into()),
        },
        CustomFieldDef {
            id: "cf_pronouns".into(),
            label: "Pronouns".into(),
            kind: "text".into(),
            options: vec![],
            cardinality: "single".into(),
            category: Some("Personal".into()),
        },
        CustomFieldDef {
            id: "cf_languages".into(),
            label: "Languages".into(),
            kind: "select".into(),
            options: s(LANGUAGES),
            cardinality: "multiple".into(),
            category: Some("Personal".into()),
        },
        CustomFieldDef {
            id: "cf_last_review".into(),
            label: "Last review".into(),
            kind: "date".into(),
            options: vec![],
            cardinality: "single".into(),
            category: Some("Performance".into()),
        },
        CustomFieldDef {
            id: "cf_desk_number".into(),
            label: "Desk number".into(),
            kind: "number".into(),
            options: vec![],
            cardinality: "single".into(),
            category: Some("Workplace".into()),
        },
    ]
}

/// Interned copies of the static strings the generator uses over and over.
pub(super) struct Interned {
    pub(super) given_male: Vec<Vec<Str>>,
    pub(super) given_female: Vec<Vec<Str>>,
    pub(super) family: Vec<Vec<Str>>,
    pub(super) kinds: [Str; 4],
    pub(super) location: [Str; 3],
    pub(super) sex: [Str; 3],
    pub(super) email_kind: [Str; 2],
    pub(super) phone_kind: [Str; 2],
    pub(super) home: Str,
    pub(super) employment: [Str; 4],
    pub(super) countries: HashMap<&'static str, Str>,
    pub(super) states: HashMap<&'static str, Str>,
    pub(super) cities: HashMap<&'static str, Str>,
    pub(super) titles: HashMap<&'static str, Str>,
    pub(super) nick: HashMap<&'static str, Str>,
    pub(super) options: HashMap<&'static str, Str>,
    pub(super) pronouns: [Str; 5],
}

impl Interned {
    pub(super) fn new(c: &mut Company) -> Self {
        let t = &mut c.text;
        let mut map = |items: &mut dyn Iterator<Item = &'static str>| {
            let mut m = HashMap::new();
            for s in items {
                m.entry(s).or_insert_with(|| t.push(s));
            }
            m
        };
        let countries =
            map(&mut std::iter::once(US.code).chain(INTERNATIONAL.iter().map(|c| c.code)));
        let all_cities = || {
            std::iter::once(&US)
                .chain(INTERNATIONAL)
                .flat_map(|c| c.cities.iter())
        };
        let states = map(&mut all_cities().map(|c| c.state).filter(|s| !s.is_empty()));
        let cities = map(&mut all_cities().map(|c| c.name));
        let titles = map(&mut DEPARTMENTS.iter().flat_map(|d| {
            [d.head, d.director, d.manager, d.intern]
                .into_iter()
                .chain(d.ics.iter().copied())
        }));
        let nick = map(&mut NICKNAMES.iter().map(|(_, n)| *n));
        let options = map(&mut TSHIRT_SIZES.iter().chain(LANGUAGES).copied());
        let mut list = |v: &[&str]| v.iter().map(|s| t.push(s)).collect::<Vec<_>>();
        let given_male = CULTURES.iter().map(|c| list(c.male)).collect();
        let given_female = CULTURES.iter().map(|c| list(c.female)).collect();
        let family = CULTURES.iter().map(|c| list(c.family)).collect();
        let mut arr = |v: &[&str]| v.iter().map(|s| t.push(s)).collect::<Vec<_>>();
        let k = arr(&[
            "employee",
            "contractor",
            "international_employee",
            "employee_eor",
        ]);
        let l = arr(&["domestic", "international", "remote"]);
        let s = arr(&["female", "male", "unknown"]);
        let e = arr(&["work", "personal"]);
        let p = arr(&["mobile", "home"]);
        let h = arr(&["home"]);
        let em = arr(&["full_time", "part_time", "intern", "temporary"]);
        let pr = arr(&["she/her", "he/him", "they/them", "she/they", "he/they"]);
        Interned {
            given_male,
            given_female,
            family,
            kinds: [k[0], k[1], k[2], k[3]],
            location: [l[0], l[1], l[2]],
            sex: [s[0], s[1], s[2]],
            email_kind: [e[0], e[1]],
            phone_kind: [p[0], p[1]],
            home: h[0],
            employment: [em[0], em[1], em[2], em[3]],
            countries,
            states,
            cities,
            titles,
            nick,
            options,
            pronouns: [pr[0], pr[1], pr[2], pr[3], pr[4]],
        }
    }
}
