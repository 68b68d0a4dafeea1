-- A county-wide transfer order inserts 100,000s of evac_households rows in one
-- statement, and every b-tree on the table costs about as much as the row
-- itself (bench/evac.md). Of the four b-trees, one is left:
--
-- * the primary key (order_id, household_id) and the unique "one open transfer
--   a household" index (household_id) WHERE open become one unique b-tree on
--   (household_id, 0 while open, else the order). Open rows still collide on
--   (household, 0); a row of an order is found by its household (a household
--   has a handful of transfers in its life), which is how every query asks.
--   The table has no primary key then: an order's households are distinct by
--   construction (api/evac/orders.ts picks each once), and no row refers to one.
--
-- * the (order_id, grid_code) b-tree becomes a BRIN index. An order's rows are
--   inserted together, in grid-code order (api/evac/orders.ts), so a village's
--   or a grid's rows lie on a few neighbouring pages and the progress, list
--   and bulk queries of one area still read only those; the order code
--   summarises the new pages right after its insert. Rows moved elsewhere by
--   later updates only widen a range: BRIN answers stay exact, at worst a few
--   more pages are read.
-- * the shelter index keeps only rows that have a shelter: in a county-wide
--   order most households have none (the places run out), and room is only
--   ever asked per shelter.
--
-- Free space on each page lets a status change stay on its page (a HOT update,
-- no new index entries), which keeps the order's rows together as well.
ALTER TABLE evac_households DROP CONSTRAINT evac_households_pkey;
DROP INDEX evac_households_one_open;
CREATE UNIQUE INDEX evac_households_household ON evac_households(household_id, (CASE WHEN open THEN 0 ELSE order_id END));
DROP INDEX evac_households_grid;
CREATE INDEX evac_households_grid ON evac_households USING brin (order_id, grid_code) WITH (pages_per_range = 4);
DROP INDEX evac_households_shelter;
CREATE INDEX evac_households_shelter ON evac_households(shelter_id) WHERE open AND shelter_id IS NOT NULL;
ALTER TABLE evac_households SET (fillfactor = 85);
