// Placeholder while the runner is written.
return 0;
