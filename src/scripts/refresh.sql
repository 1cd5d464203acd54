
------------------------------------------------------------------------------
-- A release refresh: the same layout, this release's library
------------------------------------------------------------------------------

-- ALTER EXTENSION vmm_upgrade UPDATE on a database that stays at layout
-- @LAYOUT@ and only gets this release's code (the library above).  The mail
-- schema is not touched: its layout must be the same after as before, and
-- must be the one the installed version names (a dump restored at the wrong
-- version is refused, saying what to type).  Recorded in the history.
SELECT vmm_upgrade._refresh('@LAYOUT@');
