"""Schools in the directory: the district's roster with grade spans, regions and coordinates."""
