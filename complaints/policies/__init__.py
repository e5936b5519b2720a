"""Policy values as dated records: an admin's edit applies to what starts after its time."""
