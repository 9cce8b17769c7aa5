//! A customer's cart as they send it, checked once: line count, quantities, notes and
//! idempotency keys within their limits.

use super::{InvalidId, MenuItemId};

/// Lines in one order, at most.
pub const MAX_LINES: usize = 100;
/// Portions of one item on one line, at most.
pub const MAX_QUANTITY: i64 = 50;
/// Characters in a line's note, at most.
pub const MAX_NOTE_CHARS: usize = 200;
/// Characters in an idempotency key, at most.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

/// How many portions of an item: 1 to 50.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(u8);

impl Quantity {
    pub fn parse(value: i64) -> Option<Self> {
        (1..=MAX_QUANTITY).contains(&value).then_some(Self(value as u8))
    }

    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

/// Characters a note may not hold: they reach other people's screens (the kitchen's tablets),
/// where invisible ones hide text and bidi overrides reorder it ("no nuts" shown for "nuts").
fn hidden_or_reordering(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c,
            '\u{200B}'..='\u{200F}'   // zero-width space, joiners, direction marks
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FEFF}'              // zero-width no-break space
        )
}

/// A cook's note on a line ("no onions"): trimmed, never empty, at most 200 characters, with
/// no control, invisible or reordering characters (see [`hidden_or_reordering`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Note(String);

impl Note {
    /// `Ok(None)` for a missing or blank note.
    pub fn parse(value: Option<&str>) -> Result<Option<Self>, usize> {
        let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let length = text.chars().count();
        if length > MAX_NOTE_CHARS || text.chars().any(hidden_or_reordering) {
            return Err(length);
        }
        Ok(Some(Self(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A line of a cart as an adapter received it, before any check.
#[derive(Debug, Clone)]
pub struct CartLineInput {
    pub menu_item_id: String,
    pub quantity: i64,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CartLine {
    pub menu_item_id: MenuItemId,
    pub quantity: Quantity,
    pub note: Option<Note>,
}

/// What a customer asks for: 1 to 100 valid lines. Whether the items exist and are available
/// is the menu's to say, when the order is placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    lines: Vec<CartLine>,
}

/// Why a cart was refused; lines are numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("the cart is empty: add at least one item")]
    Empty,
    #[error("the cart has {0} lines; at most {MAX_LINES} are allowed")]
    TooManyLines(usize),
    #[error("line {line}: {source}")]
    BadMenuItemId { line: usize, source: InvalidId },
    #[error("line {line}: quantity {quantity} is out of range (1 to {MAX_QUANTITY})")]
    BadQuantity { line: usize, quantity: i64 },
    #[error(
        "line {line}: the note has {length} characters or control, invisible or text-direction characters; at most {MAX_NOTE_CHARS} plain characters are allowed"
    )]
    BadNote { line: usize, length: usize },
}

impl Cart {
    pub fn parse(inputs: Vec<CartLineInput>) -> Result<Self, CartError> {
        if inputs.is_empty() {
            return Err(CartError::Empty);
        }
        if inputs.len() > MAX_LINES {
            return Err(CartError::TooManyLines(inputs.len()));
        }
        let lines = inputs
            .into_iter()
            .enumerate()
            .map(|(index, input)| {
                let line = index + 1;
                let menu_item_id = MenuItemId::parse(&input.menu_item_id)
                    .map_err(|source| CartError::BadMenuItemId { line, source })?;
                let quantity =
                    Quantity::parse(input.quantity).ok_or(CartError::BadQuantity { line, quantity: input.quantity })?;
                let note = Note::parse(input.note.as_deref()).map_err(|length| CartError::BadNote { line, length })?;
                Ok(CartLine { menu_item_id, quantity, note })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { lines })
    }

    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }

    /// The same text for the same multiset of (item, quantity, note), whatever the line order:
    /// what an idempotency key is bound to. Notes are quoted with their quotes and backslashes
    /// escaped, so no note can spell a separator and two different carts never share a text.
    pub fn fingerprint(&self) -> String {
        let mut lines: Vec<&CartLine> = self.lines.iter().collect();
        lines.sort();
        lines
            .iter()
            .map(|l| {
                let note = l.note.as_ref().map(Note::as_str);
                format!("{}x{}:{note:?}", l.menu_item_id, l.quantity.get())
            })
            .collect::<Vec<_>>()
            .join("|")
    }
}

/// A client's key that makes a retried `createOrder` return the first order instead of a new
/// one: 1 to 200 visible characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: &str) -> Result<Self, String> {
        let length = value.chars().count();
        if length == 0 || length > MAX_IDEMPOTENCY_KEY_CHARS {
            return Err(format!(
                "the idempotency key has {length} characters; 1 to {MAX_IDEMPOTENCY_KEY_CHARS} are allowed"
            ));
        }
        if value.chars().any(char::is_control) {
            return Err("the idempotency key contains control characters".to_owned());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, quantity: i64, note: Option<&str>) -> CartLineInput {
        CartLineInput { menu_item_id: id.into(), quantity, note: note.map(Into::into) }
    }
    const A: &str = "638386e1-c6f9-5a21-aeb8-bd1f0a70e77d";
    const B: &str = "22dbe406-f0e4-5f0b-ba15-e2f11a0a2489";

    #[test]
    fn refuses_what_no_kitchen_can_cook() {
        assert_eq!(Cart::parse(vec![]), Err(CartError::Empty));
        assert_eq!(Cart::parse(vec![line(A, 0, None)]), Err(CartError::BadQuantity { line: 1, quantity: 0 }));
        assert_eq!(
            Cart::parse(vec![line(A, 1, None), line(A, -3, None)]),
            Err(CartError::BadQuantity { line: 2, quantity: -3 })
        );
        assert_eq!(Cart::parse(vec![line(A, 51, None)]), Err(CartError::BadQuantity { line: 1, quantity: 51 }));
        assert!(matches!(
            Cart::parse(vec![line("not-a-uuid", 1, None)]),
            Err(CartError::BadMenuItemId { line: 1, .. })
        ));
        let long = "x".repeat(201);
        assert_eq!(Cart::parse(vec![line(A, 1, Some(&long))]), Err(CartError::BadNote { line: 1, length: 201 }));
        let too_many = (0..101).map(|_| line(A, 1, None)).collect();
        assert_eq!(Cart::parse(too_many), Err(CartError::TooManyLines(101)));
    }

    #[test]
    fn blank_notes_are_no_notes_and_limits_are_inclusive() {
        let cart = Cart::parse(vec![line(A, 50, Some("   ")), line(B, 1, Some(&"y".repeat(200)))]).expect("valid cart");
        assert_eq!(cart.lines()[0].note, None);
        assert_eq!(cart.lines()[0].quantity.get(), 50);
    }

    #[test]
    fn fingerprint_ignores_line_order_but_not_content() {
        let one = Cart::parse(vec![line(A, 1, Some("no onions")), line(B, 2, None)]).expect("valid");
        let two = Cart::parse(vec![line(B, 2, None), line(A, 1, Some("no onions"))]).expect("valid");
        let three = Cart::parse(vec![line(B, 2, None), line(A, 1, None)]).expect("valid");
        assert_eq!(one.fingerprint(), two.fingerprint());
        assert_ne!(one.fingerprint(), three.fingerprint());
    }

    #[test]
    fn notes_refuse_what_would_hide_or_reorder_text_on_a_tablet() {
        for bad in
            ["no\u{0}nuts", "no\u{202E}stun", "no\u{200B}nuts", "\u{2066}nuts\u{2069}", "a\u{FEFF}b", "tab\there"]
        {
            assert!(
                matches!(Cart::parse(vec![line(A, 1, Some(bad))]), Err(CartError::BadNote { line: 1, .. })),
                "{bad:?} was accepted"
            );
        }
        let fine = Cart::parse(vec![line(A, 1, Some("sans oignons, épicé 🌶\nextra sauce"))]).expect("plain text");
        assert!(fine.lines()[0].note.is_some());
    }

    #[test]
    fn a_note_cannot_make_two_carts_share_a_fingerprint() {
        // One line whose note spells a separator and a second line, against two real lines.
        let forged = format!("x\"), Some(\"{B}x1:None");
        let one = Cart::parse(vec![line(A, 1, Some(&forged))]).expect("valid");
        let two = Cart::parse(vec![line(A, 1, Some("x")), line(B, 1, None)]).expect("valid");
        assert_ne!(one.fingerprint(), two.fingerprint());
        let piped = Cart::parse(vec![line(A, 1, Some(&format!("x|{B}x1:")))]).expect("valid");
        assert_ne!(piped.fingerprint(), two.fingerprint());
    }

    #[test]
    fn idempotency_keys_have_sane_lengths() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(201)).is_err());
        assert_eq!(IdempotencyKey::parse("checkout-42").map(|k| k.as_str().to_owned()), Ok("checkout-42".to_owned()));
        // Inclusive, and counted in characters, not bytes.
        assert!(IdempotencyKey::parse(&"é".repeat(200)).is_ok());
        assert!(IdempotencyKey::parse("key\nwith a newline").is_err());
        assert!(IdempotencyKey::parse("\u{7f}").is_err());
    }

    #[test]
    fn a_hundred_lines_are_a_cart_and_each_keeps_what_was_asked() {
        let hundred: Vec<_> = (0..100).map(|_| line(A, 1, None)).collect();
        assert_eq!(Cart::parse(hundred).map(|c| c.lines().len()), Ok(100));
        let cart = Cart::parse(vec![line(A, 1, Some("  no onions ")), line(B, 7, None)]).expect("valid");
        let [first, second] = cart.lines() else { panic!("two lines: {cart:?}") };
        assert_eq!(first.menu_item_id.to_string(), A);
        assert_eq!(first.note.as_ref().map(Note::as_str), Some("no onions"), "trimmed");
        assert_eq!(second.menu_item_id.to_string(), B);
        assert_eq!(second.quantity.get(), 7);
        assert_eq!(Quantity::parse(1).map(Quantity::get), Some(1));
    }

    #[test]
    fn a_fingerprint_spells_out_every_line() {
        let cart = Cart::parse(vec![line(B, 2, None), line(A, 1, Some("no \"onions\""))]).expect("valid");
        // Sorted by item, quantity and note; notes quoted and escaped.
        assert_eq!(cart.fingerprint(), format!("{B}x2:None|{A}x1:Some(\"no \\\"onions\\\"\")"));
    }
}
