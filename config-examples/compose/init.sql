-- The example shop of docker-compose.yml: the sources of the stream table order_totals. The relay's
-- engine creates order_totals and the inbox orders_inbox (config-examples/compose/relay.toml).
CREATE TABLE orders (
    id          bigserial PRIMARY KEY,
    customer_id int NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    placed_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO orders (customer_id, amount) VALUES (1, 10.00), (1, 25.50), (2, 7.25);
