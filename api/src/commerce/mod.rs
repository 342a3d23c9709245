//! Buying over HTTP: the cart, checkout, orders and refunds, and what the buyer owns and the
//! speaker sold.

use crate::i18n::Text;

/// Messages of commerce's conflicts and refusals.
pub const REJECTIONS: &[Text] = &[
    Text::new("already_in_cart", "This item is already in your cart.", "هذا العنصر موجود في سلتك مسبقاً."),
    Text::new("cart_full", "Your cart is full.", "سلتك ممتلئة."),
    Text::new("cart_empty", "Your cart is empty.", "سلتك فارغة."),
    Text::new("own_item", "You cannot buy your own item.", "لا يمكنك شراء عنصر تملكه أنت."),
    Text::new("already_owned", "You already own this item.", "أنت تملك هذا العنصر مسبقاً."),
    Text::new("not_available", "This item is not available.", "هذا العنصر غير متاح."),
    Text::new("not_owned", "You do not own this item.", "أنت لا تملك هذا العنصر."),
    Text::new("order_exists", "This order already exists.", "هذا الطلب موجود مسبقاً."),
    Text::new("no_items", "An order needs at least one item.", "يحتاج الطلب إلى عنصر واحد على الأقل."),
    Text::new("already_refunded", "This has already been refunded.", "تم استرداد هذا مسبقاً."),
];

/// Reasons of commerce's invalid fields.
pub const REASONS: &[Text] = &[
    Text::new("invalid_item_type", "must be course, book or live_room", "يجب أن يكون course أو book أو live_room"),
    Text::new("unknown_order_item", "names an item that is not in this order", "يشير إلى عنصر ليس في هذا الطلب"),
    Text::new("invalid_reason", "must be 1 to 500 characters", "يجب أن يكون بين 1 و500 حرف"),
];
