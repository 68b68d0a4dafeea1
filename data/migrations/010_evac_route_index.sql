-- The transfer tiles' route band counts the open rows of each route. Without an
-- index that is a scan of every transfer row ever written (closed ones stay for
-- the wall's replay): one county order's history made each route tile 17 ms
-- with no open order at all. Only rows that follow their planned route are in
-- it (about 1 in 100 of a county-wide order), so a big order's insert barely
-- feels it, as with the shelter index of migration 009.
CREATE INDEX evac_households_route ON evac_households(route_id) WHERE open AND route_id IS NOT NULL;
