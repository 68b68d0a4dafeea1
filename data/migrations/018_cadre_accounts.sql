-- A cadre answerable for households (包保责任人) logs in to the field app as a
-- grid worker of the grid and sees the households they answer for
-- (households.cadre_id), not the grid's all (issue #19). The account names the
-- roster entry it is; NULL for every other account.
ALTER TABLE users ADD COLUMN worker_id int REFERENCES grid_workers(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX users_worker ON users(worker_id) WHERE worker_id IS NOT NULL;
