-- How far each outbox relay has delivered. The relay advances last_seq only after the broker acknowledged every
-- event up to it, in the same transaction that holds the relay's advisory lock: after a crash it resends from
-- here (at least once), it never skips.
create table relay_position (
    name       text primary key,
    last_seq   bigint      not null check (last_seq >= 0),
    updated_at timestamptz not null
);
