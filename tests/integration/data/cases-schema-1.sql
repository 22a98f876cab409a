-- A technician's case history as kefu-console wrote it before the team store (schema 1,
-- no version table): the CREATE TABLE statement of console/cases.c and two cases in the
-- form join.c recorded them.
CREATE TABLE IF NOT EXISTS cases ( id INTEGER PRIMARY KEY, session TEXT NOT NULL, technician TEXT NOT NULL, organisation TEXT NOT NULL, started TEXT NOT NULL, ended TEXT NOT NULL, outcome TEXT NOT NULL, advice TEXT NOT NULL, journal TEXT NOT NULL);
INSERT INTO cases VALUES(1,'a1b2c3d4e5f60718','Carol Diaz','Example Support','2026-11-20 09:12:03','2026-11-20 09:40:51','ended','Keep the scanner on the powered hub','[{"time":"09:12:03","kind":"session","text":"Connected to the customer''s computer (kefu-agentd 0.1.0)"},{"time":"09:20:10","kind":"repair","text":"scanner-permission: fixed"},{"time":"09:40:51","kind":"advice","text":"Keep the scanner on the powered hub"}]');
INSERT INTO cases VALUES(2,'0f1e2d3c4b5a6978','Carol Diaz','Example Support','2026-11-21 14:02:00','2026-11-21 14:05:12','cut-off','','[{"time":"14:02:00","kind":"session","text":"Connected to the customer''s computer (kefu-agentd 0.1.0)"}]');
