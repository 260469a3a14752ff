from arctl.cli import main

main()
