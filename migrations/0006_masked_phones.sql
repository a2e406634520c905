-- returns-dock schema, version 5: phone numbers are kept masked only (138****5678).
--
-- The dock never needs a customer's number, and the database file can be copied or read by
-- whoever gets hold of it, so imports now store the masked form and the numbers stored before
-- are masked here. `mask_phone` is the program's own function (src/domain/text.rs), given to
-- SQLite for this migration, so a number masked here is the number an import masks. The
-- program then computes the fingerprints of these returns again from what is stored, so
-- that re-importing the same file still finds them unchanged.

UPDATE returns SET phone = nullif(mask_phone(phone), '') WHERE phone IS NOT NULL;
