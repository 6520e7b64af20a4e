from turnrl.cli import main

raise SystemExit(main())
