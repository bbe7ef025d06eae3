//! The words of the Swedish-English glossary (`glossary`), as data, and which
//! language a word is known in: a word only the Swedish side holds is a
//! Swedish word, one only the English side holds an English one. Language
//! detection counts them beside stop words (`text`), so "fick fel produkt"
//! reads as Swedish and "Unclear pricing" as English; letter statistics alone
//! get such two-word texts wrong, and a text stemmed in the wrong language
//! never meets its other wording through the glossary.
//!
//! Written for this project (not taken from any dictionary) and under the
//! project's licence (MIT OR Apache-2.0).

use std::sync::OnceLock;

use fnv::FnvHashMap as FnvMap;

/// Swedish word, English word.
pub const SWEDISH_ENGLISH: &[(&str, &str)] = &[
    // Delivery and orders
    ("leverans", "delivery"),
    ("leverera", "deliver"),
    ("levererades", "delivered"),
    ("levtid", "delivery"),
    ("leveranstid", "delivery"),
    ("försening", "delay"),
    ("försenad", "late"),
    ("försenade", "late"),
    ("sen", "late"),
    ("sena", "late"),
    ("sent", "late"),
    ("vänta", "wait"),
    ("väntar", "waiting"),
    ("väntade", "waited"),
    ("vecka", "week"),
    ("veckor", "weeks"),
    ("månad", "month"),
    ("datum", "date"),
    ("utlovat", "promised"),
    ("lovade", "promised"),
    ("order", "order"),
    ("beställning", "order"),
    ("beställa", "order"),
    ("beställde", "ordered"),
    ("paket", "parcel"),
    ("paketet", "parcel"),
    ("försändelse", "shipment"),
    ("frakt", "shipping"),
    ("spårning", "tracking"),
    ("spåra", "track"),
    ("spårningsnummer", "tracking"),
    ("spårningsinformation", "tracking"),
    ("kom", "came"),
    ("kommit", "arrived"),
    ("anlände", "arrived"),
    ("fick", "got"),
    ("fel", "wrong"),
    ("felaktig", "wrong"),
    ("felaktiga", "wrong"),
    ("saknas", "missing"),
    ("saknades", "missing"),
    ("saknar", "missing"),
    ("varor", "goods"),
    ("vara", "item"),
    ("artikel", "item"),
    ("artiklar", "items"),
    ("lager", "stock"),
    // "Sold out": "out" is an English stop word, so no English text has it
    // as a feature and a Swedish "slut" would never meet one.
    ("slut", "sold"),
    ("slutsåld", "sold"),
    ("restorder", "backorder"),
    ("retur", "return"),
    ("returnera", "return"),
    ("byte", "exchange"),
    // Money
    ("faktura", "invoice"),
    ("fakturor", "invoices"),
    ("fakturering", "billing"),
    ("räkning", "bill"),
    ("betalning", "payment"),
    ("betala", "pay"),
    ("betalade", "paid"),
    ("pengar", "money"),
    ("återbetalning", "refund"),
    ("kreditfaktura", "credit"),
    ("avgift", "fee"),
    ("avgifter", "fees"),
    ("pris", "price"),
    ("priser", "prices"),
    ("priserna", "prices"),
    ("prislista", "price"),
    ("prissättning", "pricing"),
    ("dyr", "expensive"),
    ("dyrt", "expensive"),
    ("kostnad", "cost"),
    ("kostnader", "costs"),
    ("dolda", "hidden"),
    ("dold", "hidden"),
    ("höjdes", "raised"),
    ("höja", "raise"),
    ("förvarning", "notice"),
    ("moms", "vat"),
    ("kort", "card"),
    ("konto", "account"),
    ("överföring", "transfer"),
    ("rabatt", "discount"),
    // Support
    ("kundtjänst", "support"),
    ("kundservice", "service"),
    ("support", "support"),
    ("service", "service"),
    ("telefon", "phone"),
    ("telefonkö", "queue"),
    ("kö", "queue"),
    ("ringa", "call"),
    ("ringde", "called"),
    ("svar", "answer"),
    ("svara", "answer"),
    ("svarar", "answers"),
    ("svarade", "answered"),
    ("mejl", "email"),
    ("mail", "email"),
    ("epost", "email"),
    ("nå", "reach"),
    ("svårt", "hard"),
    ("svår", "hard"),
    ("hjälp", "help"),
    ("reklamation", "complaint"),
    ("reklamationer", "complaints"),
    ("klagomål", "complaint"),
    ("ärende", "case"),
    ("långsam", "slow"),
    ("långsamt", "slow"),
    ("tid", "time"),
    ("lång", "long"),
    ("långa", "long"),
    ("aldrig", "never"),
    ("löst", "solved"),
    ("lösa", "solve"),
    // Staff
    ("personal", "staff"),
    ("personalen", "staff"),
    ("säljare", "salesperson"),
    ("säljaren", "sales"),
    ("chaufför", "driver"),
    ("chauffören", "driver"),
    ("otrevlig", "rude"),
    ("otrevliga", "rude"),
    ("oförskämd", "rude"),
    ("arrogant", "arrogant"),
    ("ovänlig", "unfriendly"),
    ("bemötande", "treatment"),
    // Web shop
    ("webbshop", "webshop"),
    ("webbshoppen", "webshop"),
    ("webbutik", "webshop"),
    ("nätbutik", "webshop"),
    ("hemsida", "website"),
    ("hemsidan", "website"),
    ("webbplats", "website"),
    ("sajt", "site"),
    ("sajten", "site"),
    ("sida", "page"),
    ("logga", "log"),
    ("inloggning", "login"),
    ("lösenord", "password"),
    ("kassan", "checkout"),
    ("kassa", "checkout"),
    ("kraschar", "crashes"),
    ("krascha", "crash"),
    ("seg", "slow"),
    ("fungerar", "works"),
    ("funkar", "works"),
    ("app", "app"),
    ("appen", "app"),
    // Products and faults
    ("produkt", "product"),
    ("produkter", "products"),
    ("produkten", "product"),
    ("skada", "damage"),
    ("skadad", "damaged"),
    ("skadade", "damaged"),
    ("skadat", "damaged"),
    ("trasig", "broken"),
    ("trasiga", "broken"),
    ("sönder", "broke"),
    ("krossad", "crushed"),
    ("krossat", "crushed"),
    ("mosat", "crushed"),
    ("kvalitet", "quality"),
    ("dålig", "bad"),
    ("dåligt", "bad"),
    ("farlig", "dangerous"),
    ("farligt", "dangerous"),
    ("säkerhet", "safety"),
    ("brand", "fire"),
    ("laddare", "charger"),
    ("laddaren", "charger"),
    ("apparat", "device"),
    ("apparaten", "device"),
    ("förpackning", "packaging"),
    ("förpackningen", "packaging"),
    ("förpackningsmaterial", "packaging"),
    ("emballage", "packaging"),
    ("kartong", "box"),
    ("låda", "box"),
    ("plast", "plastic"),
    ("onödigt", "unnecessary"),
    ("mycket", "much"),
    ("för", "too"),
    // Documentation
    ("manual", "manual"),
    ("manualen", "manual"),
    ("bruksanvisning", "manual"),
    ("instruktion", "instruction"),
    ("instruktioner", "instructions"),
    ("dokumentation", "documentation"),
    ("otydlig", "unclear"),
    ("otydliga", "unclear"),
    ("oklar", "unclear"),
    ("oklara", "unclear"),
    ("förvirrande", "confusing"),
    ("gammal", "outdated"),
    ("inaktuell", "outdated"),
    ("information", "information"),
    ("info", "info"),
    // Marketing
    ("reklam", "marketing"),
    ("reklammejl", "spam"),
    ("utskick", "mailing"),
    ("nyhetsbrev", "newsletter"),
    ("skräppost", "spam"),
    ("avregistrera", "unsubscribe"),
    ("avsluta", "cancel"),
    ("prenumeration", "subscription"),
    // Time words
    ("alltid", "always"),
    ("igen", "again"),
    ("ofta", "often"),
    ("varje", "every"),
    ("dag", "day"),
];

/// Words that only bridge the two languages: used where a study holds Swedish
/// and English texts, not in a Swedish-only one. Everyday verbs and sizes
/// ("skicka", "hantera", "stor") would there merely join texts that share
/// one whatever their problem; and the rest (added for the sv/en fixture,
/// 2026-12-02) did not help the Swedish-only SweFAQ dev file, so a
/// Swedish-only study keeps [`SWEDISH_ENGLISH`] alone.
pub const BRIDGE_ONLY: &[(&str, &str)] = &[
    // Verbs, quantities and sizes
    ("tar", "takes"),
    ("tog", "took"),
    ("flera", "several"),
    ("många", "many"),
    ("veta", "know"),
    ("visste", "knew"),
    ("tillbaka", "back"),
    ("gånger", "times"),
    ("hög", "high"),
    ("högre", "higher"),
    ("del", "part"),
    ("delar", "parts"),
    ("stor", "big"),
    ("stora", "big"),
    ("liten", "small"),
    ("små", "small"),
    ("enorm", "huge"),
    ("massor", "lots"),
    ("kontakt", "contact"),
    ("kontakta", "contact"),
    ("skicka", "send"),
    ("skickade", "sent"),
    ("skickades", "sent"),
    ("hantera", "handle"),
    ("hanterades", "handled"),
    ("hantering", "handling"),
    // Problem words added for the two languages to meet
    ("transport", "transport"),
    ("transporten", "transport"),
    ("gods", "goods"),
    ("sak", "thing"),
    ("saker", "things"),
    ("grejer", "things"),
    ("grej", "thing"),
    ("färg", "colour"),
    ("storlek", "size"),
    ("försent", "late"),
    ("schema", "schedule"),
    ("tidtabell", "schedule"),
    ("överenskommen", "agreed"),
    ("överenskomna", "agreed"),
    ("avtalad", "agreed"),
    ("avtalade", "agreed"),
    ("lastbil", "truck"),
    ("evighet", "forever"),
    ("evigheter", "forever"),
    ("dagar", "days"),
    ("avisering", "notification"),
    ("avisera", "notify"),
    ("meddelande", "message"),
    ("notis", "notification"),
    ("länk", "link"),
    ("länken", "link"),
    ("restnoterat", "backorder"),
    ("restnoterad", "backorder"),
    ("restnotering", "backorder"),
    ("restnoteringar", "backorders"),
    ("slutsålt", "sold"),
    ("slutsålda", "sold"),
    ("tillgänglig", "available"),
    ("ständigt", "constantly"),
    ("belopp", "amount"),
    ("summa", "amount"),
    ("stämde", "match"),
    ("stämmer", "match"),
    ("dubbel", "duplicate"),
    ("dubbla", "duplicate"),
    ("adress", "address"),
    ("debiterade", "charged"),
    ("debitera", "charge"),
    ("debitering", "charge"),
    ("fakturerade", "billed"),
    ("fakturera", "bill"),
    ("höjning", "increase"),
    ("ökning", "increase"),
    ("krånglig", "complicated"),
    ("krångligt", "complicated"),
    ("svårbegriplig", "confusing"),
    ("förstå", "understand"),
    ("offert", "quote"),
    ("offerten", "quote"),
    ("ändras", "change"),
    ("ändra", "change"),
    ("ändrade", "changed"),
    ("oväntad", "unexpected"),
    ("oväntade", "unexpected"),
    ("överraskning", "surprise"),
    ("oklart", "unclear"),
    ("otydligt", "unclear"),
    ("upptaget", "busy"),
    ("upptagen", "busy"),
    ("linje", "line"),
    ("tag", "hold"),
    ("omöjligt", "impossible"),
    ("omöjlig", "impossible"),
    ("timme", "hour"),
    ("timmar", "hours"),
    ("minut", "minute"),
    ("minuter", "minutes"),
    ("jaga", "chase"),
    ("brydde", "cared"),
    ("bry", "care"),
    ("fortfarande", "still"),
    ("ignorerad", "ignored"),
    ("ignorerades", "ignored"),
    ("ignorera", "ignore"),
    ("bemött", "treated"),
    ("behandlad", "treated"),
    ("behandlade", "treated"),
    ("illa", "badly"),
    ("otrevligt", "rude"),
    ("oartig", "impolite"),
    ("ohövlig", "impolite"),
    ("arg", "angry"),
    ("luren", "phone"),
    ("anställd", "employee"),
    ("anställda", "employees"),
    ("buggig", "buggy"),
    ("bugg", "bug"),
    ("buggar", "bugs"),
    ("utloggad", "logged"),
    ("inloggad", "logged"),
    ("knapp", "button"),
    ("knappen", "button"),
    ("sök", "search"),
    ("söka", "search"),
    ("funktion", "function"),
    ("värdelös", "useless"),
    ("jätte", "very"),
    ("väldigt", "very"),
    ("nere", "down"),
    ("mosad", "crushed"),
    ("slösaktig", "wasteful"),
    ("slösaktiga", "wasteful"),
    ("återvinna", "recycle"),
    ("återvinning", "recycling"),
    ("varm", "hot"),
    ("het", "hot"),
    ("överhettad", "overheated"),
    ("brinna", "burn"),
    ("brann", "burned"),
    ("rök", "smoke"),
    ("vass", "sharp"),
    ("kant", "edge"),
    ("skar", "cut"),
    ("skära", "cut"),
    ("återkalla", "recall"),
    ("återkallades", "recalled"),
    ("certifikat", "certificate"),
    ("märkning", "marking"),
    ("osäker", "unsafe"),
    ("problem", "problem"),
    ("produktblad", "datasheet"),
    ("datablad", "datasheet"),
    ("handbok", "guide"),
    ("användarhandbok", "guide"),
    ("guide", "guide"),
    ("anvisning", "instructions"),
    ("montering", "installation"),
    ("installation", "installation"),
    ("medföljde", "included"),
    ("ingick", "included"),
    ("tyska", "german"),
    ("engelska", "english"),
    ("bristfällig", "poor"),
    ("dåliga", "bad"),
    ("spam", "spam"),
    ("spammar", "spam"),
    ("mejlen", "email"),
];

const IS_SWEDISH: u8 = 1;
const IS_ENGLISH: u8 = 2;

/// Endings a Swedish word of the lists may carry and still count as known
/// ("fakturan", "leveranser"); an English word may end in "s".
const SWEDISH_ENDINGS: &[&str] = &["", "n", "en", "et", "na", "or", "ar", "er", "s"];
const ENGLISH_ENDINGS: &[&str] = &["", "s"];

/// Which sides of the lists hold `word` (bits `IS_SWEDISH`, `IS_ENGLISH`), with
/// the endings above, through one hash look-up built on first use.
fn sides_of(word: &str) -> u8 {
    static TABLE: OnceLock<FnvMap<String, u8>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = FnvMap::default();
        for (sv, en) in SWEDISH_ENGLISH.iter().chain(BRIDGE_ONLY) {
            for ending in SWEDISH_ENDINGS {
                *table.entry(format!("{sv}{ending}")).or_insert(0) |= IS_SWEDISH;
            }
            for ending in ENGLISH_ENDINGS {
                *table.entry(format!("{en}{ending}")).or_insert(0) |= IS_ENGLISH;
            }
        }
        table
    });
    table.get(word).copied().unwrap_or(0)
}

/// How many of `words` (lower-cased) only the Swedish side, and how many only
/// the English side of the glossary knows; a word both know ("order",
/// "support", "sent") counts for neither.
pub fn language_votes<'a>(words: impl IntoIterator<Item = &'a str>) -> (usize, usize) {
    words
        .into_iter()
        .fold((0, 0), |(sv, en), w| match sides_of(w) {
            IS_SWEDISH => (sv + 1, en),
            IS_ENGLISH => (sv, en + 1),
            _ => (sv, en),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_vote_for_the_side_that_knows_them() {
        assert_eq!(language_votes(["fick", "fel", "produkt"]), (3, 0));
        assert_eq!(language_votes(["unclear", "pricing"]), (0, 2));
        assert_eq!(language_votes(["fakturan", "invoices"]), (1, 1));
        // Known on both sides, or on neither: no vote.
        assert_eq!(language_votes(["order", "support", "zzyzx"]), (0, 0));
    }

    #[test]
    fn entries_are_single_lower_case_words() {
        for (sv, en) in SWEDISH_ENGLISH.iter().chain(BRIDGE_ONLY) {
            for w in [sv, en] {
                assert!(!w.is_empty() && !w.contains(' '), "{w:?}");
                assert_eq!(w.to_lowercase(), **w);
            }
        }
    }
}
