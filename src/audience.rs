//! Who a contact or a response belongs to (`audience` columns): customers, or
//! staff, who answer a checklist "as you think our customers would" and never count
//! as customers. A leaf: imports nothing of the crate, so every room may use it.

/// The audience of customers (the default of every contact and response).
pub const CUSTOMER: &str = "customer";
/// Staff answer "as you think our customers would"; never counted as customers.
pub const STAFF: &str = "staff";

/// Who a contact is, as `pds contacts import --audience` and `pds invite
/// --audience` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Audience {
    #[default]
    Customer,
    /// Staff answer the checklist as they think customers would.
    Staff,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Customer => CUSTOMER,
            Audience::Staff => STAFF,
        }
    }
}
