import PruneCLI

PruneCommand.runMain()
