"""School safety committees (Ed Code 32281), their composition rules by jurisdiction, CBO
nominations, and the annual school safety plans with their needs assessments."""
