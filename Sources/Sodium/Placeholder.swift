// Placeholder so the package graph loads before this target is written; delete when it has sources.
