"""Stripe's webhooks: the ingress (two public routes, each with its own signing secret) and
the processor (an SQS consumer) that applies stored events as authoritative payment state
(docs/architecture.md, "Payments")."""
