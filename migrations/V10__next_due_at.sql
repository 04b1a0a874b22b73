-- Issue 16: the scheduler's "what is due" as one stored instant per issuer.
-- next_due_at is the first instant at which the sweeper has work for the issuer, computed by the Java planner
-- (lifecycle/DueStep.nextDueAt) and stored in the transaction of every change that can move it. The sweeper selects
-- next_due_at <= now; null means nothing will be due until the next change. Existing rows (and rows inserted by
-- anything but Keyhold) start as now(), so the first sweep asks the planner and stores the real value.
alter table issuer add column next_due_at timestamptz default now();
update issuer set next_due_at = now();
create index issuer_by_next_due_at on issuer (next_due_at);
