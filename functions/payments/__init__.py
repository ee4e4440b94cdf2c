"""Payments: each venue's Stripe Connect Express account, checkouts (online orders that wait
for Stripe's signed word before they are placed) and refunds (docs/architecture.md,
"Payments")."""
