"""Programs (HSDS "service"): who provides what, for whom, when and where."""
