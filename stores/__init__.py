"""Where a cluster of Rasa servers keeps what they share: conversations in PostgreSQL
(stores/tracker.py) and the per-conversation locks in Redis (stores/lock.py), and what a member
gets when either is unavailable (stores/unavailable.py). deploy/endpoints.yml names them."""
