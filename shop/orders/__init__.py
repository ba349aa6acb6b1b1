"""Orders: the cart, checkout, the order lifecycle, Buyer Protection disputes, idempotency keys and deadlines."""
