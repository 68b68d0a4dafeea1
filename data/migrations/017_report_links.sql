-- What a problem report can start (issue #20): a new hazard site proposed for the register from a
-- report of a crack or a slide, and a transfer order for the people a report says are in danger.

-- A proposed site (待核实) is in the register but not yet on the map, in the roll-ups, the rain
-- watch or an order's sites: those read status = 'active' only. The county confirms it.
ALTER TABLE hazard_sites DROP CONSTRAINT hazard_sites_status_check;
ALTER TABLE hazard_sites ADD CONSTRAINT hazard_sites_status_check CHECK (status IN ('active', 'proposed', 'cancelled'));
-- The report a site was proposed from (one site a report), and what the reporter saw there.
ALTER TABLE hazard_sites
  ADD COLUMN proposed_from int UNIQUE REFERENCES reports(id) ON DELETE SET NULL,
  ADD COLUMN note text CHECK (length(note) <= 500);

-- An order started from a report names it: trigger_kind 'report', trigger_ref {"reportId": n}.
ALTER TABLE evac_orders DROP CONSTRAINT evac_orders_trigger_kind_check;
ALTER TABLE evac_orders ADD CONSTRAINT evac_orders_trigger_kind_check
  CHECK (trigger_kind IN ('warning', 'site_alert', 'forecast', 'manual', 'report'));
CREATE INDEX evac_orders_report ON evac_orders(((trigger_ref ->> 'reportId')::int)) WHERE trigger_kind = 'report';

-- Both are steps on the report's timeline (its state and level unchanged).
ALTER TABLE report_steps DROP CONSTRAINT report_steps_action_check;
ALTER TABLE report_steps ADD CONSTRAINT report_steps_action_check
  CHECK (action IN ('filed', 'acknowledge', 'dispatch', 'handled', 'close', 'escalate', 'merge', 'propose_site', 'confirm_site', 'transfer'));
