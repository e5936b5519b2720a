from complaints import create_app

app = create_app()
