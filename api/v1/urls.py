from django.urls import path

from api.v1 import views

app_name = "api_v1"

urlpatterns = [
    path("referrals/", views.ReferralList.as_view(), name="referral_list"),
    path("referrals/<int:pk>/", views.ReferralDetail.as_view(), name="referral_detail"),
]
